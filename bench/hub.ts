/**
 * The dialect hub's own cost, in process (no network): what translation adds to a call.
 *
 * - Requests: each recorded CLI request (Claude Code → Anthropic, Codex → Responses, Gemini CLI
 *   → Gemini; test/fixtures/clients/) decoded to the IR and encoded for every other target
 *   dialect, then serialised — the work translate.ts does before sending. µs per request.
 * - Streams: a 400-event Anthropic answer (text, thinking, a tool call with streamed arguments,
 *   usage) as SSE, cut into 1 KiB chunks, decoded and re-encoded for every client dialect,
 *   one chunk at a time as translate.ts does. µs per upstream event and MB/s of wire read.
 *
 * Each figure is the median of 5 timed rounds after a warm-up. `BENCH_SCALE=0.2` for a quick run.
 */
import { readFileSync } from "node:fs";
import type { HubDialect } from "../companion/hub/codec.ts";
import type { IrEvent } from "../companion/hub/ir.ts";
import { CODECS } from "../companion/hub/registry.ts";

const SCALE = Number(process.env.BENCH_SCALE ?? "1");
const DIALECTS: HubDialect[] = ["anthropic", "openai-chat", "openai-responses", "gemini", "ollama"];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median µs per iteration of `fn` over 5 rounds of `n` iterations, after one warm-up round. */
function time(n: number, fn: () => void): number {
  const rounds: number[] = [];
  for (let r = 0; r < 6; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const us = Number(process.hrtime.bigint() - start) / 1000 / n;
    if (r > 0) rounds.push(us);
  }
  return median(rounds);
}

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../test/fixtures/clients/${name}`, import.meta.url), "utf8")) as { path: string; body: unknown };

const REQUESTS: { client: string; dialect: HubDialect; body: unknown; model?: string }[] = [
  { client: "Claude Code 2.1.330", dialect: "anthropic", body: fixture("claude-code-2.1.330.messages.json").body },
  { client: "Codex 0.169.0", dialect: "openai-responses", body: fixture("codex-0.169.0.responses.json").body },
  { client: "Gemini CLI 0.61.0", dialect: "gemini", body: fixture("gemini-cli-0.61.0.streamGenerateContent.json").body, model: "gemini-x" },
];

console.log("## Requests: client body → IR → target body (JSON text)\n");
console.log(`| client (body size) | ${DIALECTS.join(" | ")} |`);
console.log(`| --- | ${DIALECTS.map(() => "---").join(" | ")} |`);
for (const req of REQUESTS) {
  const size = JSON.stringify(req.body).length;
  const cells = DIALECTS.map((target) => {
    const from = CODECS[req.dialect];
    const to = CODECS[target];
    const once = () => {
      const ir = from.decodeRequest(req.body, { model: req.model ?? "m", stream: true });
      if (!ir.ok) throw new Error(`${req.client} → ${target}: ${ir.error.message}`);
      const out = to.encodeRequest({ ...ir.value, stream: true }, { model: "target-model" });
      if (!out.ok) throw new Error(`${req.client} → ${target}: ${out.error.message}`);
      JSON.stringify(out.value.body);
    };
    return `${time(Math.max(20, Math.round(400 * SCALE)), once).toFixed(0)} µs`;
  });
  console.log(`| ${req.client} (${(size / 1024).toFixed(0)} KiB) | ${cells.join(" | ")} |`);
}

/** A long Anthropic answer as IR events: thinking, text in many deltas, a tool call in fragments. */
function answerEvents(): IrEvent[] {
  const events: IrEvent[] = [{ type: "start", id: "msg_bench", model: "claude-x", usage: { inputTokens: 5000 } }];
  events.push({ type: "block_start", index: 0, part: { type: "reasoning", text: "" } });
  for (let i = 0; i < 100; i++) events.push({ type: "reasoning_delta", index: 0, text: `step ${i} of the plan, considered carefully. ` });
  events.push({ type: "reasoning_delta", index: 0, signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" }, { type: "block_stop", index: 0 });
  events.push({ type: "block_start", index: 1, part: { type: "text", text: "" } });
  for (let i = 0; i < 250; i++) events.push({ type: "text_delta", index: 1, text: `word${i} ` });
  events.push({ type: "block_stop", index: 1 });
  events.push({ type: "block_start", index: 2, part: { type: "tool_call", id: "toolu_bench", name: "exec_command", arguments: "" } });
  const args = JSON.stringify({ cmd: "npm test -- --run companion/hub", workdir: "/srv/app", timeout_ms: 120000 });
  for (let i = 0; i < args.length; i += 4) events.push({ type: "tool_arguments_delta", index: 2, json: args.slice(i, i + 4) });
  events.push({ type: "block_stop", index: 2 }, { type: "finish", stopReason: "tool_use", usage: { inputTokens: 5000, outputTokens: 900 } });
  return events;
}

const anthropic = CODECS.anthropic;
const events = answerEvents();
const upstreamEncoder = anthropic.streamEncoder({ model: "claude-x", id: "msg_bench", now: 0 });
const wire = events.map((e) => upstreamEncoder.push(e)).join("") + upstreamEncoder.end();
const chunks: string[] = [];
for (let i = 0; i < wire.length; i += 1024) chunks.push(wire.slice(i, i + 1024));

console.log(`\n## Streams: Anthropic SSE (${events.length} events, ${(wire.length / 1024).toFixed(0)} KiB, 1 KiB chunks) → IR → client stream\n`);
console.log("| client dialect | µs per upstream event | wire MB/s |");
console.log("| --- | --- | --- |");
for (const client of DIALECTS) {
  const us = time(Math.max(5, Math.round(100 * SCALE)), () => {
    const decoder = anthropic.streamDecoder();
    const encoder = CODECS[client].streamEncoder({ model: "claude-x", id: "bench", now: 0, includeUsage: true });
    let out = 0;
    for (const chunk of chunks) for (const e of decoder.push(chunk)) out += encoder.push(e).length;
    for (const e of decoder.end()) out += encoder.push(e).length;
    out += encoder.end().length;
    if (out === 0) throw new Error(`nothing encoded for ${client}`);
  });
  console.log(`| ${client} | ${(us / events.length).toFixed(2)} | ${(wire.length / us).toFixed(0)} |`);
}
