/**
 * Stand-in answers that CALL TOOLS, in each provider's own wire shape (the golden examples in
 * companion/hub/<dialect>/fixtures/ are the model for every field and every event order):
 *
 * - Anthropic Messages: a message with `tool_use` blocks and `stop_reason: "tool_use"`; streamed,
 *   each tool_use block starts with `input: {}` and its input arrives as `input_json_delta`
 *   fragments, the first one empty (fixtures/stream-tool-use.sse).
 * - OpenAI chat: `message.tool_calls` with `finish_reason: "tool_calls"`; streamed, each call is
 *   announced with id, name and `arguments: ""`, then argument fragments by `index`, one call after
 *   the other (fixtures/stream-tool-calls.sse).
 * - OpenAI Responses: `function_call` output items (`id` fc_…, `call_id` call_…); streamed,
 *   output_item.added → function_call_arguments.delta… → .done → output_item.done per call,
 *   then response.completed (fixtures/stream-tool-calls.sse).
 * - Gemini: `functionCall` parts (no id: the API sends none) with `finishReason: "STOP"`;
 *   streamed (`?alt=sse`), all calls whole in one chunk (fixtures/stream-tools.sse).
 * - Ollama: `message.tool_calls` with arguments as objects; the whole answer has no ids (as in
 *   the API docs), the stream has one line per call with `id` and `function.index` (Ollama ≥ 0.12,
 *   fixtures/chat-stream.tools.ndjson), then the `done` line; `done_reason` is "stop" either way.
 *
 * Every builder takes an optional `text` the model says before its calls (a preamble such as
 * "I'll check the weather."), placed and streamed the way each dialect does it: an Anthropic text
 * block, chat `content` deltas, a Responses `message` item, Gemini text parts in earlier chunks,
 * Ollama `content` lines.
 */
import type { StreamStep } from "./ollama.ts";
import { googleJson, splitDeltas, sseFrame } from "./provider-mocks.ts";

/** One tool call as a stand-in answers it: `id` is what the provider names it (none for Gemini, Ollama's whole answer). */
export interface AnsweredCall {
  id?: string;
  name: string;
  args: Record<string, unknown>;
}

/** Cuts JSON text into `n` non-empty fragments (at most its length), in order. */
export function fragments(json: string, n = 3): string[] {
  const chars = Array.from(json);
  const k = Math.max(1, Math.min(n, chars.length));
  const out: string[] = [];
  for (let i = 0; i < k; i++) out.push(chars.slice(Math.floor((i * chars.length) / k), Math.floor(((i + 1) * chars.length) / k)).join(""));
  return out;
}

const mustId = (call: AnsweredCall): string => {
  if (!call.id) throw new Error(`this dialect's answer needs a call id (${call.name})`);
  return call.id;
};

// ---------------------------------------------------------------------------------------------
// Anthropic Messages

/** Messages API usage as the docs show it (cache fields and service tier included). */
export const anthropicUsage = (input: number, output: number) => ({
  input_tokens: input,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  output_tokens: output,
  service_tier: "standard",
});

export function anthropicToolUseMessage(model: string, calls: AnsweredCall[], text?: string) {
  return {
    id: "msg_01Aq9w938a90dw8qMatrix01",
    type: "message",
    role: "assistant",
    model,
    content: [...(text ? [{ type: "text", text }] : []), ...calls.map((c) => ({ type: "tool_use", id: mustId(c), name: c.name, input: c.args }))],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: anthropicUsage(472, 89),
  };
}

export function anthropicToolUseFrames(model: string, calls: AnsweredCall[], text?: string): string[] {
  const ev = (type: string, body: Record<string, unknown> = {}) => sseFrame(type, { type, ...body });
  const first = text ? 1 : 0;
  return [
    ev("message_start", {
      message: { id: "msg_014p7gG3wDgGV9EUtLvnow3U", type: "message", role: "assistant", model, stop_sequence: null, usage: anthropicUsage(472, 2), content: [], stop_reason: null },
    }),
    ...(text
      ? [
          ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
          ev("ping"),
          ...splitDeltas(text).map((t) => ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: t } })),
          ev("content_block_stop", { index: 0 }),
        ]
      : [ev("ping")]),
    ...calls.flatMap((c, i) => {
      const index = first + i;
      return [
        ev("content_block_start", { index, content_block: { type: "tool_use", id: mustId(c), name: c.name, input: {} } }),
        ...["", ...fragments(JSON.stringify(c.args))].map((partial_json) => ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } })),
        ev("content_block_stop", { index }),
      ];
    }),
    ev("message_delta", { delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 89 } }),
    ev("message_stop"),
  ];
}

// ---------------------------------------------------------------------------------------------
// OpenAI chat completions

const chatUsage = { prompt_tokens: 82, completion_tokens: 17, total_tokens: 99, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } };

export function chatToolCallsCompletion(model: string, calls: AnsweredCall[], text?: string) {
  return {
    id: "chatcmpl-CZ1Lx4Qm0dn9VfWcb0aXqAS8sMtx1",
    object: "chat.completion",
    created: 1_764_000_000,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text ?? null,
          refusal: null,
          annotations: [],
          tool_calls: calls.map((c) => ({ id: mustId(c), type: "function", function: { name: c.name, arguments: JSON.stringify(c.args) } })),
        },
        logprobs: null,
        finish_reason: "tool_calls",
      },
    ],
    usage: chatUsage,
    service_tier: "default",
    system_fingerprint: "fp_cbf1785567",
  };
}

export function chatToolCallsFrames(model: string, calls: AnsweredCall[], includeUsage: boolean, text?: string): string[] {
  const base = { id: "chatcmpl-CZ1Lx4Qm0dn9VfWcb0aXqAS8sMtx2", object: "chat.completion.chunk", created: 1_764_000_000, model, service_tier: "default", system_fingerprint: "fp_cbf1785567" };
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) =>
    sseFrame(null, { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }], ...(includeUsage ? { usage: null } : {}), obfuscation: "x9Qe" });
  return [
    chunk({ role: "assistant", content: text ? "" : null, refusal: null }),
    ...(text ? splitDeltas(text).map((content) => chunk({ content })) : []),
    ...calls.flatMap((c, index) => [
      chunk({ tool_calls: [{ index, id: mustId(c), type: "function", function: { name: c.name, arguments: "" } }] }),
      ...fragments(JSON.stringify(c.args)).map((args) => chunk({ tool_calls: [{ index, function: { arguments: args } }] })),
    ]),
    chunk({}, "tool_calls"),
    ...(includeUsage ? [sseFrame(null, { ...base, choices: [], usage: chatUsage, obfuscation: "Zq" })] : []),
    sseFrame(null, "[DONE]"),
  ];
}

// ---------------------------------------------------------------------------------------------
// OpenAI Responses

/** The Responses call id is `call_id`; the output item's own id is derived from it (fc_…). */
const itemIdOf = (c: AnsweredCall) => `fc_${mustId(c).replace(/^call_/, "")}`;

const MESSAGE_ID = "msg_67c9fdcf37fc8190ba82116e33fb28cMtx";
const outputText = (text: string) => ({ type: "output_text", annotations: [], logprobs: [], text });
const messageItem = (status: "in_progress" | "completed", text?: string) => ({
  id: MESSAGE_ID,
  type: "message",
  status,
  content: text === undefined ? [] : [outputText(text)],
  role: "assistant",
});

function responseShell(req: Record<string, unknown>, status: "in_progress" | "completed", output: unknown[], usage: unknown) {
  return {
    id: "resp_68d1a2b3c4d58190a1b2c3d4e5f6Mtx1",
    object: "response",
    created_at: 1_764_000_000,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: null,
    model: req.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: req.store ?? true,
    temperature: 1,
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: req.tool_choice ?? "auto",
    tools: req.tools ?? [],
    top_p: 1,
    truncation: "disabled",
    usage,
    user: null,
    metadata: {},
  };
}

const responsesUsage = { input_tokens: 291, input_tokens_details: { cached_tokens: 0 }, output_tokens: 46, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 337 };

const functionCallItem = (c: AnsweredCall, status: "in_progress" | "completed", args: string) => ({
  type: "function_call",
  id: itemIdOf(c),
  call_id: mustId(c),
  name: c.name,
  arguments: args,
  status,
});

export function responsesFunctionCalls(req: Record<string, unknown>, calls: AnsweredCall[], text?: string) {
  return responseShell(
    req,
    "completed",
    [...(text ? [messageItem("completed", text)] : []), ...calls.map((c) => functionCallItem(c, "completed", JSON.stringify(c.args)))],
    responsesUsage,
  );
}

export function responsesFunctionCallFrames(req: Record<string, unknown>, calls: AnsweredCall[], text?: string): string[] {
  let seq = 0;
  const ev = (type: string, body: Record<string, unknown>) => sseFrame(type, { type, ...body, sequence_number: seq++ });
  const first = text ? 1 : 0;
  const doneCalls = calls.map((c) => functionCallItem(c, "completed", JSON.stringify(c.args)));
  const at = { item_id: MESSAGE_ID, output_index: 0, content_index: 0 };
  return [
    ev("response.created", { response: responseShell(req, "in_progress", [], null) }),
    ev("response.in_progress", { response: responseShell(req, "in_progress", [], null) }),
    ...(text
      ? [
          ev("response.output_item.added", { output_index: 0, item: messageItem("in_progress") }),
          ev("response.content_part.added", { ...at, part: outputText("") }),
          ...splitDeltas(text).map((delta) => ev("response.output_text.delta", { ...at, delta, logprobs: [] })),
          ev("response.output_text.done", { ...at, text, logprobs: [] }),
          ev("response.content_part.done", { ...at, part: outputText(text) }),
          ev("response.output_item.done", { output_index: 0, item: messageItem("completed", text) }),
        ]
      : []),
    ...calls.flatMap((c, i) => {
      const args = JSON.stringify(c.args);
      const output_index = first + i;
      return [
        ev("response.output_item.added", { output_index, item: functionCallItem(c, "in_progress", "") }),
        ...fragments(args).map((delta) => ev("response.function_call_arguments.delta", { item_id: itemIdOf(c), output_index, delta })),
        ev("response.function_call_arguments.done", { item_id: itemIdOf(c), output_index, arguments: args }),
        ev("response.output_item.done", { output_index, item: doneCalls[i] }),
      ];
    }),
    ev("response.completed", { response: responseShell(req, "completed", [...(text ? [messageItem("completed", text)] : []), ...doneCalls], responsesUsage) }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Gemini

const geminiUsage = { promptTokenCount: 134, candidatesTokenCount: 30, totalTokenCount: 164, promptTokensDetails: [{ modality: "TEXT", tokenCount: 134 }] };

export function geminiFunctionCalls(model: string, calls: AnsweredCall[], text?: string) {
  return {
    candidates: [{ content: { parts: [...(text ? [{ text }] : []), ...calls.map((c) => ({ functionCall: { name: c.name, args: c.args } }))], role: "model" }, finishReason: "STOP", index: 0 }],
    usageMetadata: geminiUsage,
    modelVersion: model,
    responseId: "fc-resp-7Qp2Matrix",
  };
}

/** `?alt=sse`: text first (one chunk per piece), then the calls whole, all in one last chunk; `data: …\r\n\r\n` as Google frames it. */
export function geminiFunctionCallSseFrames(model: string, calls: AnsweredCall[], text?: string): string[] {
  const textChunks = (text ? splitDeltas(text) : []).map((t) => ({
    candidates: [{ content: { parts: [{ text: t }], role: "model" }, index: 0 }],
    usageMetadata: { promptTokenCount: 134, totalTokenCount: 134 },
    modelVersion: model,
    responseId: "fc-resp-7Qp2Matrix",
  }));
  return [...textChunks, geminiFunctionCalls(model, calls)].map((c) => `data: ${googleJson(c)}\r\n\r\n`);
}

// ---------------------------------------------------------------------------------------------
// Ollama

const CREATED_AT = "2025-07-07T20:32:53.844124Z";

/** The whole answer, as in the API docs: no ids, arguments as objects. */
export function ollamaToolCallReply(model: string, calls: AnsweredCall[], text?: string) {
  return {
    model,
    created_at: CREATED_AT,
    message: { role: "assistant", content: text ?? "", tool_calls: calls.map((c) => ({ function: { name: c.name, arguments: c.args } })) },
    done_reason: "stop",
    done: true,
    total_duration: 3_244_883_583,
    load_duration: 2_969_184_542,
    prompt_eval_count: 169,
    prompt_eval_duration: 141_656_333,
    eval_count: 18,
    eval_duration: 133_293_625,
  };
}

/** Streamed: one line per text piece, one line per call (with id and function.index), then the done line. */
export function ollamaToolCallStream(model: string, calls: AnsweredCall[], text?: string): StreamStep[] {
  return [
    ...(text ? splitDeltas(text) : []).map((content) => ({ json: { model, created_at: CREATED_AT, message: { role: "assistant", content }, done: false } })),
    ...calls.map((c, index) => ({
      json: { model, created_at: CREATED_AT, message: { role: "assistant", content: "", tool_calls: [{ id: mustId(c), function: { index, name: c.name, arguments: c.args } }] }, done: false },
    })),
    {
      json: {
        model,
        created_at: CREATED_AT,
        message: { role: "assistant", content: "" },
        done_reason: "stop",
        done: true,
        total_duration: 182_242_375,
        load_duration: 41_295_167,
        prompt_eval_count: 169,
        prompt_eval_duration: 24_573_166,
        eval_count: 15,
        eval_duration: 115_959_084,
      },
    },
  ];
}
