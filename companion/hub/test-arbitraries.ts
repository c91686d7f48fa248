/**
 * fast-check generators and helpers shared by the hub's property tests (cross-dialect ones
 * first of all): valid IR conversations, answers and event streams, wire splitting, and a
 * mutator that turns valid wire JSON into "schema-shaped" junk for never-throw properties.
 *
 * Test-only: imported by *.test.ts files, never by codecs.
 */
import fc from "fast-check";
import type { IrCacheControl, IrEvent, IrImageSource, IrMessage, IrPart, IrRequest, IrResponse, IrResponseFormat, IrStopReason, IrTool, IrToolChoice, IrUsage } from "./ir.ts";

export type ToolCallPart = Extract<IrPart, { type: "tool_call" }>;
export type ToolResultPart = Extract<IrPart, { type: "tool_result" }>;

// ---------------------------------------------------------------------------------------------
// Atoms

/**
 * Message text: non-empty (Anthropic refuses empty text blocks and its encoder leaves them out)
 * and without "\n", because several dialects join texts with newlines ("\n\n" in Chat
 * Completions, "\n" in Ollama): properties strip "\n" before comparing joined texts, which is
 * only sound when the generated texts had none.
 */
export const lineText = fc
  .oneof(
    { weight: 3, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }) },
    { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
    // Text that wire framings or parsers might trip on.
    { weight: 1, arbitrary: fc.constantFrom(" ", "  padded  ", "\t", "\r", "a\u0000b", "\u2028\u2029", "[DONE]", "data: x", "event: ping", '{"a":1}', "\\", "\ufeffbom") },
  )
  .filter((s) => !s.includes("\n"));

/** Free text (newlines allowed), for places where no dialect joins texts with a separator. */
export const anyText = fc.oneof(lineText, fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }), fc.constantFrom("\n", "a\r\nb", "\n\n", "x\n"));

/**
 * Tool-call ids as every dialect accepts them: Anthropic validates tool_use ids against
 * ^[a-zA-Z0-9_-]+$ (its encoder rewrites other characters, see anthropic/request-encode.ts).
 */
export const callIdStem = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/);

/** Tool-call ids for dialects that take any string (all but Anthropic). */
export const anyCallIdStem = fc.oneof(callIdStem, fc.string({ minLength: 1, maxLength: 16 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }));

/** Function names valid everywhere (Gemini: letters, digits, `_`, `.`, `-`, at most 64). */
export const toolName = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,20}$/),
  // Few names, so that parallel calls of one function are frequent: results must still find their own call.
  fc.constantFrom("get_weather", "search"),
);

/**
 * Tool-call arguments: a JSON object as text (Anthropic `input`, Gemini `args` and Ollama
 * `arguments` are objects on the wire). `__proto__` keys are left out: JSON.parse makes them
 * own properties, but object spreads and assignments in any JS layer would not.
 */
export const argsJson = fc
  .dictionary(
    fc.string({ maxLength: 8 }).filter((k) => k !== "__proto__"),
    fc.jsonValue({ maxDepth: 2 }),
    { maxKeys: 4 },
  )
  .map((o) => JSON.stringify(o));

/**
 * Tool-result text: any line, including text that looks like JSON (Gemini sends results that
 * are a JSON object's serialisation as that object, see gemini/parts.ts toolResultResponse).
 */
export const resultText = fc.oneof(
  { weight: 4, arbitrary: lineText },
  { weight: 1, arbitrary: fc.constantFrom("", '{"a":1}', '{"output":"x"}', '{"error":"boom"}', '{"output":"x","more":1}', "[1,2]", '"quoted"', "{}", "null") },
);

// ---------------------------------------------------------------------------------------------
// Requests

export interface ConversationShape {
  system: string[];
  turns: {
    /** Assistant parts in order: a text, or a call (name + arguments; ids are made unique later). */
    assistant: ({ kind: "text"; text: string } | { kind: "call"; stem: string; name: string; arguments: string })[];
    /** Per call of that assistant turn, its result texts and error flag. */
    results: { texts: string[]; isError: boolean }[];
    /** User text after the results (or the whole user turn when there were no calls). */
    userText: string[];
  }[];
  firstUser: string[];
  /** An assistant text turn at the end (a prefill), if any. */
  trailing?: string | undefined;
}

/**
 * A valid conversation: a user turn first, then assistant/user pairs. Every tool call of an
 * assistant turn is answered in the next user turn (Anthropic and OpenAI require it), results
 * first and in call order, then optional user text ("the tool_result blocks must come first",
 * Anthropic tool-use docs); a user turn without results has text. Call ids are unique in the
 * conversation, so results link to exactly one call.
 */
export const irRequest = (model: string, ids: fc.Arbitrary<string> = callIdStem): fc.Arbitrary<IrRequest> => {
  const assistantPart = fc.oneof(lineText.map((text) => ({ kind: "text" as const, text })), fc.record({ kind: fc.constant("call" as const), stem: ids, name: toolName, arguments: argsJson }));
  return fc
    .record({
      system: fc.array(lineText, { maxLength: 2 }),
      firstUser: fc.array(lineText, { minLength: 1, maxLength: 2 }),
      turns: fc.array(
        fc.record({
          assistant: fc.array(assistantPart, { minLength: 1, maxLength: 4 }),
          results: fc.array(fc.record({ texts: fc.array(resultText, { minLength: 1, maxLength: 2 }), isError: fc.boolean() }), { minLength: 4, maxLength: 4 }),
          userText: fc.array(lineText, { maxLength: 2 }),
        }),
        { maxLength: 3 },
      ),
      trailing: fc.option(lineText, { nil: undefined, freq: 5 }),
    })
    .map((shape) => buildRequest(model, shape));
};

export function buildRequest(model: string, shape: ConversationShape): IrRequest {
  const messages: IrMessage[] = [{ role: "user", content: shape.firstUser.map((text) => ({ type: "text", text })) }];
  const tools = new Map<string, IrTool>();
  let n = 0;
  for (const turn of shape.turns) {
    const calls: ToolCallPart[] = [];
    const assistant: IrPart[] = turn.assistant.map((p) => {
      if (p.kind === "text") return { type: "text", text: p.text };
      // "-<n>" at the end makes ids unique: the digits after the last "-" differ.
      const call: ToolCallPart = { type: "tool_call", id: `${p.stem}-${n++}`, name: p.name, arguments: p.arguments };
      calls.push(call);
      tools.set(p.name, { name: p.name, parameters: { type: "object", properties: {} } });
      return call;
    });
    messages.push({ role: "assistant", content: assistant });
    const user: IrPart[] = calls.map((c, i): ToolResultPart => {
      const r = turn.results[i % turn.results.length]!;
      const part: ToolResultPart = { type: "tool_result", toolCallId: c.id, content: r.texts.map((text) => ({ type: "text", text })) };
      if (r.isError) part.isError = true;
      return part;
    });
    const texts = turn.userText.length > 0 || user.length > 0 ? turn.userText : ["go on"];
    for (const text of texts) user.push({ type: "text", text });
    messages.push({ role: "user", content: user });
  }
  if (shape.trailing !== undefined) messages.push({ role: "assistant", content: [{ type: "text", text: shape.trailing }] });
  return { model, system: shape.system.map((text) => ({ text })), messages, tools: [...tools.values()], stream: false, dropped: [] };
}

// ---------------------------------------------------------------------------------------------
// Answers

/** Stop reasons whose class every dialect can tell apart, consistent with the content. */
export function stopClassFor(hasCalls: boolean, cut: boolean): IrStopReason {
  if (cut) return "max_tokens";
  return hasCalls ? "tool_use" : "end_turn";
}

/** Answer content: texts and tool calls in any order (ids unique: "-<position>" ends them). */
export const answerParts = (ids: fc.Arbitrary<string> = callIdStem): fc.Arbitrary<IrPart[]> =>
  fc
    .array(fc.oneof(anyText.map((text) => ({ kind: "text" as const, text })), fc.record({ kind: fc.constant("call" as const), stem: ids, name: toolName, arguments: argsJson })), { maxLength: 5 })
    .map((parts) => parts.map((p, i): IrPart => (p.kind === "text" ? { type: "text", text: p.text } : { type: "tool_call", id: `${p.stem}-${i}`, name: p.name, arguments: p.arguments })));

/**
 * Token counts: input and output always, and sometimes the parts of them some dialects count
 * apart (cache reads within input, reasoning within output), which their usage blocks shift
 * around (Anthropic's input_tokens exclude cache reads; Gemini's candidatesTokenCount excludes
 * thoughts).
 */
export const tokenUsage: fc.Arbitrary<IrUsage & { inputTokens: number; outputTokens: number }> = fc
  .record({ inputTokens: fc.nat(100_000), outputTokens: fc.nat(100_000), cached: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), reasoning: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) })
  .map(({ inputTokens, outputTokens, cached, reasoning }) => {
    const u: IrUsage & { inputTokens: number; outputTokens: number } = { inputTokens, outputTokens };
    if (cached !== undefined) u.cachedInputTokens = Math.floor(inputTokens * cached);
    if (reasoning !== undefined) u.reasoningTokens = Math.floor(outputTokens * reasoning);
    return u;
  });

/** An answer of text and tool calls, its stop reason consistent with it, and token counts. */
export const irResponse = (ids: fc.Arbitrary<string> = callIdStem): fc.Arbitrary<IrResponse> =>
  fc.record({ content: answerParts(ids), cut: fc.boolean(), usage: tokenUsage }).map(({ content, cut, usage }) => ({
    id: "resp_1",
    model: "m",
    content,
    stopReason: stopClassFor(content.some((p) => p.type === "tool_call"), cut),
    usage,
  }));

// ---------------------------------------------------------------------------------------------
// Streams

export type StreamBlock = { kind: "text"; pieces: string[] } | { kind: "call"; call: ToolCallPart; cuts: number[] };

/** The blocks of a streamed answer: texts in delta pieces, tool calls with their fragment cuts. */
export const streamBlocks = (ids: fc.Arbitrary<string> = callIdStem): fc.Arbitrary<StreamBlock[]> =>
  fc
    .array(
      fc.oneof(
        // Empty pieces too: encoders must skip empty deltas without losing their block.
        fc.array(fc.oneof({ weight: 5, arbitrary: anyText }, { weight: 1, arbitrary: fc.constant("") }), { minLength: 1, maxLength: 3 }).map((pieces) => ({ kind: "text" as const, pieces })),
        fc.record({ stem: ids, name: toolName, arguments: argsJson, cuts: fc.array(fc.nat(), { maxLength: 3 }) }),
      ),
      { maxLength: 5 },
    )
    .map((blocks) =>
      blocks.map((b, i): StreamBlock => ("pieces" in b ? b : { kind: "call", call: { type: "tool_call", id: `${b.stem}-${i}`, name: b.name, arguments: b.arguments }, cuts: b.cuts })),
    );

/**
 * IR events of an answer made of `blocks`: text in its delta pieces, arguments in fragments.
 * `weave` (when non-empty) interleaves the events of consecutive tool-call blocks, as a
 * decoder of a dialect without blocks produces for parallel calls (OpenAI's calls stay open
 * until finish_reason): their starts and argument fragments mix, each call's own order kept,
 * and they stop together afterwards, in order. Blocks still start in index order.
 */
export function streamEvents(blocks: StreamBlock[], stopReason: IrStopReason, usage: { inputTokens: number; outputTokens: number }, weave: number[] = []): IrEvent[] {
  const events: IrEvent[] = [{ type: "start", id: "x", model: "m", usage: { inputTokens: usage.inputTokens } }];
  let run: IrEvent[][] = [];
  let runStops: IrEvent[] = [];
  let w = 0;
  const flushRun = (): void => {
    // Blocks start in index order (decoders number blocks as they start); after its start a
    // call's fragments may come at any time.
    let started = 0;
    while (run.some((l) => l.length > 0)) {
      const eligible = run.filter((l, i) => l.length > 0 && i <= started);
      const pick = eligible[weave[w++ % weave.length]! % eligible.length]!;
      if (pick === run[started]) started++;
      events.push(pick.shift()!);
    }
    events.push(...runStops);
    run = [];
    runStops = [];
  };
  blocks.forEach((b, index) => {
    if (b.kind === "text") {
      flushRun();
      events.push({ type: "block_start", index, part: { type: "text", text: "" } });
      for (const text of b.pieces) events.push({ type: "text_delta", index, text });
      events.push({ type: "block_stop", index });
      return;
    }
    const own: IrEvent[] = [{ type: "block_start", index, part: { ...b.call, arguments: "" } }];
    for (const json of splitAt(b.call.arguments, b.cuts)) own.push({ type: "tool_arguments_delta", index, json });
    if (weave.length === 0) {
      events.push(...own, { type: "block_stop", index });
      return;
    }
    run.push(own);
    runStops.push({ type: "block_stop", index });
  });
  flushRun();
  events.push({ type: "finish", stopReason, usage });
  return events;
}

/**
 * `s` cut at the given points (taken modulo its length + 1), never inside a UTF-16 surrogate
 * pair: a stream's text chunks come out of a UTF-8 decoder, which never splits a code point.
 */
export function splitAt(s: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (s.length + 1)))]
    .map((p) => (p > 0 && p < s.length && isLowSurrogate(s.charCodeAt(p)) ? p - 1 : p))
    .sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    if (p < from) continue;
    out.push(s.slice(from, p));
    from = p;
  }
  out.push(s.slice(from));
  return out;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

// ---------------------------------------------------------------------------------------------
// Schema-shaped junk

/** Type / role names of every dialect, so that mutations hit known and unknown branches alike. */
const TYPE_NAMES = [
  "text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "server_tool_use", "input_json_delta", "text_delta",
  "message", "function_call", "function_call_output", "reasoning", "input_text", "output_text", "refusal", "input_image", "input_file",
  "function", "image_url", "file", "user", "assistant", "system", "developer", "tool", "model",
  "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "error", "ping",
  "response.created", "response.output_item.added", "response.output_text.delta", "response.function_call_arguments.delta", "response.output_item.done", "response.completed", "response.failed",
  "x-unknown",
];

export type Mutation = { op: "add"; at: number; key: string; value: unknown } | { op: "replace"; at: number; value: unknown } | { op: "retype"; at: number; name: string } | { op: "delete"; at: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("add" as const), at: fc.nat(), key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(
      "type", "role", "id", "name", "content", "parts", "text", "arguments", "args", "input", "index", "usage", "__proto__",
      "tool_calls", "tool_call_id", "tool_use_id", "call_id", "functionCall", "functionResponse", "thought", "thoughtSignature", "signature", "images", "thinking",
      "tool_choice", "thinking", "output_config", "cache_control", "response_format", "reasoning", "reasoning_effort", "stream_options", "include", "instructions",
      "generationConfig", "toolConfig", "systemInstruction", "cachedContent", "options", "format", "think", "stop", "max_tokens", "n", "metadata", "delta", "choices", "candidates", "finishReason", "finish_reason", "done", "done_reason", "error",
    )), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ op: fc.constant("replace" as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ op: fc.constant("retype" as const), at: fc.nat(), name: fc.oneof(fc.constantFrom(...TYPE_NAMES), fc.string({ maxLength: 8 })) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
);

/**
 * A copy of `value` (JSON) with the mutations applied, each to the node numbered `at` modulo
 * the node count (nodes numbered depth-first): extra or unknown fields, values of the wrong
 * kind, other block types and roles, missing fields.
 */
export function mutate(value: unknown, mutations: Mutation[]): unknown {
  let root: unknown = structuredClone(value);
  for (const m of mutations) {
    const nodes: { parent: Record<string, unknown> | unknown[] | null; key: string | number; node: unknown }[] = [];
    const walk = (node: unknown, parent: Record<string, unknown> | unknown[] | null, key: string | number): void => {
      nodes.push({ parent, key, node });
      if (Array.isArray(node)) node.forEach((v, i) => walk(v, node, i));
      else if (node !== null && typeof node === "object") for (const [k, v] of Object.entries(node)) walk(v, node as Record<string, unknown>, k);
    };
    walk(root, null, "");
    const target = nodes[m.at % nodes.length]!;
    const set = (v: unknown): void => {
      if (target.parent === null) root = v;
      else if (Array.isArray(target.parent)) target.parent[target.key as number] = v;
      else Object.defineProperty(target.parent, target.key, { value: v, enumerable: true, writable: true, configurable: true });
    };
    switch (m.op) {
      case "add":
        if (target.node !== null && typeof target.node === "object" && !Array.isArray(target.node)) {
          // defineProperty, as JSON.parse does: a "__proto__" key becomes an own property.
          Object.defineProperty(target.node, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        } else if (Array.isArray(target.node)) target.node.push(m.value);
        else set(m.value);
        break;
      case "replace":
        set(m.value);
        break;
      case "retype":
        if (target.node !== null && typeof target.node === "object" && !Array.isArray(target.node)) {
          const o = target.node as Record<string, unknown>;
          if ("role" in o && !("type" in o)) o.role = m.name;
          else o.type = m.name;
        } else set(m.name);
        break;
      case "delete":
        if (target.parent === null) root = null;
        else if (Array.isArray(target.parent)) target.parent.splice(target.key as number, 1);
        else delete (target.parent as Record<string, unknown>)[target.key as string];
        break;
    }
  }
  return root;
}

/**
 * Applies `mutate` to the JSON payloads of a stream's text: SSE `data:` lines and NDJSON lines;
 * line `i` takes the mutations whose `at` is `i` modulo the line count (other lines stay).
 */
export function mutateStream(wire: string, mutations: Mutation[]): string {
  const lines = wire.split("\n");
  const byLine = new Map<number, Mutation[]>();
  for (const m of mutations) {
    const i = m.at % lines.length;
    byLine.set(i, [...(byLine.get(i) ?? []), m]);
  }
  return lines
    .map((line, i) => {
      const ms = byLine.get(i);
      if (!ms) return line;
      const sse = line.startsWith("data: ");
      const body = sse ? line.slice(6) : line;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return line;
      }
      const text = JSON.stringify(mutate(parsed, ms)) ?? "null";
      return sse ? `data: ${text}` : text;
    })
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// Rich IR: every feature the IR has, for never-throw properties (seeds that encoders turn into
// wire bodies which are then mutated, and IR that encoders must take whatever it holds).

const cacheControl = fc.constantFrom<IrCacheControl | undefined>(undefined, { type: "ephemeral" }, { type: "ephemeral", ttl: "1h" });

const mediaSource: fc.Arbitrary<IrImageSource> = fc.oneof(
  fc.record({ kind: fc.constant("base64" as const), mediaType: fc.constantFrom("image/png", "image/jpeg", "application/pdf", "text/plain", "audio/wav", ""), data: fc.oneof(fc.base64String({ maxLength: 24 }), fc.string({ maxLength: 8 })) }),
  fc.record({ kind: fc.constant("url" as const), url: fc.oneof(fc.webUrl(), fc.constantFrom("data:image/png;base64,iVBORw0KGgo=", "data:application/pdf;base64,JVBERi0=", "data:text/plain,hi", "data:;base64,", "x.pdf"), fc.string({ maxLength: 10 })) }),
);

function withCache<T extends object>(part: T, cache: IrCacheControl | undefined): T {
  return cache ? { ...part, cacheControl: cache } : part;
}

const extraUserPart: fc.Arbitrary<IrPart> = fc.oneof(
  fc.tuple(fc.string({ maxLength: 10 }), cacheControl).map(([text, c]): IrPart => withCache({ type: "text", text }, c)),
  fc.tuple(mediaSource, cacheControl).map(([source, c]): IrPart => withCache({ type: "image", source }, c)),
  fc.tuple(mediaSource, fc.option(fc.string({ maxLength: 8 }), { nil: undefined }), cacheControl).map(([source, title, c]): IrPart => withCache(title === undefined ? { type: "document", source } : { type: "document", source, title }, c)),
  fc.record({ toolCallId: fc.string({ maxLength: 8 }), content: fc.array(fc.oneof(fc.string({ maxLength: 8 }).map((text) => ({ type: "text" as const, text })), mediaSource.map((source) => ({ type: "image" as const, source }))), { maxLength: 3 }), isError: fc.boolean() }).map((r): IrPart => ({ type: "tool_result", ...r })),
);

const reasoningPart: fc.Arbitrary<IrPart> = fc
  .record({ text: fc.string({ maxLength: 12 }), signature: fc.string({ maxLength: 8 }), redactedData: fc.string({ maxLength: 8 }), thoughtSignature: fc.string({ maxLength: 8 }) }, { requiredKeys: ["text"] })
  .map((r): IrPart => ({ type: "reasoning", ...r }));

const extraAssistantPart: fc.Arbitrary<IrPart> = fc.oneof(
  reasoningPart,
  fc.string({ maxLength: 10 }).map((text): IrPart => ({ type: "text", text })),
  // Arguments that are no JSON object: JSON of another kind, broken JSON, nothing.
  fc.record({ id: fc.string({ maxLength: 8 }), name: fc.string({ maxLength: 8 }), arguments: fc.oneof(argsJson, fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 10 })), thoughtSignature: fc.string({ maxLength: 8 }) }, { requiredKeys: ["id", "name", "arguments"] }).map((c): IrPart => ({ type: "tool_call", ...c })),
  // Parts that do not belong in an assistant turn.
  extraUserPart,
);

const requestOptions = fc.record(
  {
    toolChoice: fc.oneof(fc.constantFrom<IrToolChoice>({ type: "auto" }, { type: "none" }, { type: "required" }), toolName.map((name): IrToolChoice => ({ type: "tool", name }))),
    parallelToolCalls: fc.boolean(),
    maxOutputTokens: fc.oneof(fc.nat(300_000), fc.constantFrom(0, 1, 1024, 4096)),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
    topP: fc.double({ min: 0, max: 1, noNaN: true }),
    topK: fc.nat(200),
    stopSequences: fc.array(fc.string({ maxLength: 6 }), { maxLength: 6 }),
    seed: fc.integer(),
    presencePenalty: fc.double({ min: -2, max: 2, noNaN: true }),
    frequencyPenalty: fc.double({ min: -2, max: 2, noNaN: true }),
    responseFormat: fc.oneof(
      fc.constantFrom<IrResponseFormat>({ type: "text" }, { type: "json" }),
      fc.record({ type: fc.constant("json_schema" as const), name: fc.string({ maxLength: 70 }), schema: fc.oneof(fc.constant({ type: "object", properties: { a: { type: "string" } } }), fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })), strict: fc.boolean() }, { requiredKeys: ["type", "schema"] }),
    ),
    reasoning: fc.record({ enabled: fc.boolean(), budgetTokens: fc.nat(100_000), effort: fc.constantFrom("minimal" as const, "low" as const, "medium" as const, "high" as const), includeThoughts: fc.boolean() }, { requiredKeys: ["enabled"] }),
    stream: fc.boolean(),
    streamUsage: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** A valid conversation (irRequest) plus options, odd parts and cache marks. */
export const richIrRequest = (model: string, ids: fc.Arbitrary<string> = callIdStem): fc.Arbitrary<IrRequest> =>
  fc
    .tuple(
      irRequest(model, ids),
      requestOptions,
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean(), extraUserPart, extraAssistantPart), { maxLength: 3 }),
      fc.array(cacheControl, { maxLength: 3 }),
      fc.array(fc.record({ description: fc.string({ maxLength: 10 }), cacheControl: fc.constant({ type: "ephemeral" as const }) }, { requiredKeys: [] }), { maxLength: 2 }),
    )
    .map(([ir, options, extras, systemCache, toolExtras]) => {
      const out: IrRequest = { ...structuredClone(ir), ...options, stream: options.stream ?? false };
      for (const [m, at, user, userPart, assistantPart] of extras) {
        const message = out.messages[m % out.messages.length]!;
        // Mostly parts of the turn's own kind; sometimes ones that do not belong there.
        const part = user === (message.role === "user") ? userPart : assistantPart;
        message.content.splice(at % (message.content.length + 1), 0, part);
      }
      out.system = out.system.map((s, i) => withCache(s, systemCache[i]));
      out.tools = out.tools.map((t, i) => ({ ...t, ...toolExtras[i] }));
      return out;
    });

const anyStopReason = fc.constantFrom<IrStopReason>("end_turn", "max_tokens", "stop_sequence", "tool_use", "content_filter", "refusal", "error", "other");

const fullUsage: fc.Arbitrary<IrUsage> = fc.record({ inputTokens: fc.nat(10_000), outputTokens: fc.nat(10_000), cachedInputTokens: fc.nat(10_000), cacheCreationInputTokens: fc.nat(10_000), reasoningTokens: fc.nat(10_000) }, { requiredKeys: [] });

/** An answer with any parts, stop reason and usage. */
export const richIrResponse: fc.Arbitrary<IrResponse> = fc
  .record({ content: fc.array(fc.oneof(answerParts().map((p) => p[0] ?? { type: "text" as const, text: "" }), extraAssistantPart), { maxLength: 5 }), stopReason: anyStopReason, stopSequence: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }), usage: fullUsage })
  .map((r): IrResponse => {
    const out: IrResponse = { id: "resp_1", model: "m", content: r.content, stopReason: r.stopReason, usage: r.usage };
    if (r.stopSequence !== undefined) out.stopSequence = r.stopSequence;
    return out;
  });

/** Any sequence of IR events, in any order, with indices that may not match. */
export const anyIrEvents: fc.Arbitrary<IrEvent[]> = fc.array(
  fc.oneof(
    fc.record({ type: fc.constant("start" as const), id: fc.string({ maxLength: 6 }), model: fc.string({ maxLength: 6 }), usage: fullUsage }, { requiredKeys: ["type", "id", "model"] }),
    fc.record({ type: fc.constant("block_start" as const), index: fc.nat(3), part: fc.oneof(extraAssistantPart, answerParts().map((p) => p[0] ?? { type: "text" as const, text: "x" })) }),
    fc.record({ type: fc.constant("text_delta" as const), index: fc.nat(3), text: fc.string({ maxLength: 10 }) }),
    fc.record({ type: fc.constant("reasoning_delta" as const), index: fc.nat(3), text: fc.string({ maxLength: 10 }), signature: fc.string({ maxLength: 6 }) }, { requiredKeys: ["type", "index"] }),
    fc.record({ type: fc.constant("tool_arguments_delta" as const), index: fc.nat(3), json: fc.string({ maxLength: 10 }) }),
    fc.record({ type: fc.constant("block_stop" as const), index: fc.nat(3) }),
    fc.record({ type: fc.constant("usage" as const), usage: fullUsage }),
    fc.record({ type: fc.constant("finish" as const), stopReason: anyStopReason, stopSequence: fc.string({ maxLength: 4 }), usage: fullUsage }, { requiredKeys: ["type", "stopReason"] }),
    fc.record({ type: fc.constant("error" as const), status: fc.integer({ min: 0, max: 600 }), code: fc.string({ maxLength: 8 }), message: fc.string({ maxLength: 10 }) }),
  ),
  { maxLength: 14 },
);
