/**
 * Golden transcripts, written after the providers' API references (stream event order, field
 * names, the chunk shapes their docs show), with numbers chosen so each field's source is plain.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_OUTPUT_ALLOWANCE, estimateTokens, INLINE_MEDIA_TOKENS, MAX_BUFFERED_BYTES, UsageTap, type Usage, type UsageTapDialect } from "./usage.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const sse = (events: ([string, unknown] | [unknown])[], eol = "\n") =>
  events.map((e) => (e.length === 2 ? `event: ${e[0]}${eol}data: ${dataOf(e[1])}${eol}${eol}` : `data: ${dataOf(e[0])}${eol}${eol}`)).join("");
const dataOf = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

function tap(dialect: UsageTapDialect, streaming: boolean, chunks: Uint8Array[]): Usage {
  const t = new UsageTap({ dialect, streaming });
  for (const c of chunks) t.push(c);
  return t.end();
}

/** The usage read from `body` whole, in one-byte pieces and cut at random points must be the same. */
function expectUsage(dialect: UsageTapDialect, streaming: boolean, body: string, expected: Usage): void {
  const bytes = utf8(body);
  expect(tap(dialect, streaming, [bytes])).toEqual(expected);
  expect(tap(dialect, streaming, [...bytes].map((b) => Uint8Array.of(b)))).toEqual(expected);
  fc.assert(
    fc.property(fc.array(fc.nat(bytes.length), { maxLength: 12 }), (points) => {
      const cuts = [...new Set(points)].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let at = 0;
      for (const c of cuts) {
        chunks.push(bytes.subarray(at, c));
        at = c;
      }
      chunks.push(bytes.subarray(at));
      expect(tap(dialect, streaming, chunks)).toEqual(expected);
    }),
    { numRuns: 30 },
  );
}

describe("UsageTap: anthropic", () => {
  const start = (usage: object) => ({
    type: "message_start",
    message: { id: "msg_01XFDUDYJgAACzvnptvVoYEL", type: "message", role: "assistant", content: [], model: "claude-sonnet-4-5", stop_reason: null, stop_sequence: null, usage },
  });

  it("streamed: message_start input and cache counts, message_delta output", () => {
    const body = sse([
      ["message_start", start({ input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 1, service_tier: "standard" })],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
      ["ping", { type: "ping" }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: '! "usage": {}' } }],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 15 } }],
      ["message_stop", { type: "message_stop" }],
    ]);
    expectUsage("anthropic", true, body, { inputTokens: 2125, outputTokens: 15, cachedTokens: 2000 });
  });

  it("streamed: cumulative counters in message_delta replace those of message_start; nulls do not", () => {
    const body = sse([
      ["message_start", start({ input_tokens: 472, cache_creation_input_tokens: null, cache_read_input_tokens: null, output_tokens: 2 })],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me search." } }],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      [
        "message_delta",
        {
          type: "message_delta",
          delta: { stop_reason: "end_turn", stop_sequence: null },
          usage: { input_tokens: 10682, cache_creation_input_tokens: 0, cache_read_input_tokens: null, output_tokens: 510, output_tokens_details: { thinking_tokens: 212 }, server_tool_use: { web_search_requests: 1 } },
        },
      ],
      ["message_stop", { type: "message_stop" }],
    ]);
    expectUsage("anthropic", true, body, { inputTokens: 10682, outputTokens: 510, reasoningTokens: 212 });
  });

  it("streamed: an error event after message_start keeps what was counted", () => {
    const body = sse([
      ["message_start", start({ input_tokens: 12, output_tokens: 1 })],
      ["error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }],
    ]);
    expectUsage("anthropic", true, body, { inputTokens: 12, outputTokens: 1 });
  });

  it("not streamed: the message's usage", () => {
    const body = JSON.stringify({
      id: "msg_013Zva2CMHLNnXjNJJKqJ2EF",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [{ type: "text", text: "Hi! My name is Claude." }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 2095, cache_creation_input_tokens: 2048, cache_read_input_tokens: 0, output_tokens: 503 },
    });
    expectUsage("anthropic", false, body, { inputTokens: 4143, outputTokens: 503, cachedTokens: 0 });
  });

  it("count_tokens answers are not usage", () => {
    expect(tap("anthropic", false, [utf8('{"input_tokens": 2095}')])).toEqual({});
  });
});

describe("UsageTap: openai-chat", () => {
  const chunk = (delta: object, finish: string | null, extra: object = {}) => ({
    id: "chatcmpl-123",
    object: "chat.completion.chunk",
    created: 1694268190,
    model: "gpt-4o-mini-2024-07-18",
    system_fingerprint: "fp_44709d6fcb",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...extra,
  });

  it("streamed with include_usage: the last chunk (empty choices) before [DONE]", () => {
    const body = sse([
      [chunk({ role: "assistant", content: "", refusal: null }, null, { usage: null })],
      [chunk({ content: "Hello" }, null, { usage: null })],
      [chunk({ content: "!" }, null, { usage: null })],
      [chunk({}, "stop", { usage: null })],
      [
        {
          id: "chatcmpl-123",
          object: "chat.completion.chunk",
          created: 1694268190,
          model: "gpt-4o-mini-2024-07-18",
          system_fingerprint: "fp_44709d6fcb",
          choices: [],
          usage: {
            prompt_tokens: 1200,
            completion_tokens: 300,
            total_tokens: 1500,
            prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
            completion_tokens_details: { reasoning_tokens: 128, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
          },
        },
      ],
      ["[DONE]"],
    ]);
    expectUsage("openai-chat", true, body, { inputTokens: 1200, outputTokens: 300, cachedTokens: 1024, reasoningTokens: 128 });
  });

  it("streamed without include_usage: unknown", () => {
    const body = sse([[chunk({ role: "assistant", content: "Hi" }, null)], [chunk({}, "stop")], ["[DONE]"]]);
    expectUsage("openai-chat", true, body, {});
  });

  it("streamed by DeepSeek: cache hits in prompt_cache_hit_tokens", () => {
    const body = sse([
      [chunk({ content: "Hi" }, null, { usage: null })],
      [chunk({}, "stop", { usage: { prompt_tokens: 60, completion_tokens: 9, total_tokens: 69, prompt_cache_hit_tokens: 40, prompt_cache_miss_tokens: 20 } })],
      ["[DONE]"],
    ]);
    expectUsage("openai-chat", true, body, { inputTokens: 60, outputTokens: 9, cachedTokens: 40 });
  });

  it("not streamed", () => {
    const body = JSON.stringify({
      id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
      object: "chat.completion",
      created: 1741570283,
      model: "gpt-4o-2024-08-06",
      choices: [{ index: 0, message: { role: "assistant", content: "The image shows...", refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" }],
      usage: {
        prompt_tokens: 1117,
        completion_tokens: 46,
        total_tokens: 1163,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      service_tier: "default",
      system_fingerprint: "fp_fc9f1d7035",
    });
    expectUsage("openai-chat", false, body, { inputTokens: 1117, outputTokens: 46, cachedTokens: 0, reasoningTokens: 0 });
  });

  it("an error body on a streamed call is not usage, and does not throw", () => {
    expectUsage("openai-chat", true, JSON.stringify({ error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } }), {});
  });
});

describe("UsageTap: openai-completions", () => {
  it("streamed with include_usage", () => {
    const chunk = (text: string, finish: string | null) => ({
      id: "cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe",
      object: "text_completion",
      created: 1690759702,
      choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
      model: "gpt-3.5-turbo-instruct",
      usage: null,
    });
    const body = sse([
      [chunk("This", null)],
      [chunk(" is a test.", "length")],
      [{ id: "cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe", object: "text_completion", created: 1690759702, choices: [], model: "gpt-3.5-turbo-instruct", usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } }],
      ["[DONE]"],
    ]);
    expectUsage("openai-completions", true, body, { inputTokens: 5, outputTokens: 7 });
  });

  it("not streamed", () => {
    const body = JSON.stringify({
      id: "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7",
      object: "text_completion",
      created: 1589478378,
      model: "gpt-3.5-turbo-instruct",
      system_fingerprint: "fp_44709d6fcb",
      choices: [{ text: "\n\nThis is indeed a test", index: 0, logprobs: null, finish_reason: "length" }],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
    });
    expectUsage("openai-completions", false, body, { inputTokens: 5, outputTokens: 7 });
  });
});

describe("UsageTap: openai-embeddings", () => {
  it("prompt tokens only", () => {
    const body = JSON.stringify({
      object: "list",
      data: [{ object: "embedding", embedding: [0.0023064255, -0.009327292, -0.0028842222], index: 0 }],
      model: "text-embedding-3-small",
      usage: { prompt_tokens: 8, total_tokens: 8 },
    });
    expectUsage("openai-embeddings", false, body, { inputTokens: 8 });
  });
});

describe("UsageTap: openai-responses", () => {
  const response = (status: string, usage: object | null, output: unknown[] = []) => ({
    id: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654",
    object: "response",
    created_at: 1741290958,
    status,
    error: null,
    incomplete_details: null,
    instructions: "You are a helpful assistant.",
    max_output_tokens: null,
    model: "gpt-4.1-2025-04-14",
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1.0,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1.0,
    truncation: "disabled",
    usage,
    user: null,
    metadata: {},
  });
  const message = { id: "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654", type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", text: "Hi there! How can I assist you today?", annotations: [] }] };
  const usage = { input_tokens: 37, input_tokens_details: { cached_tokens: 12 }, output_tokens: 11, output_tokens_details: { reasoning_tokens: 4 }, total_tokens: 48 };

  it("streamed: response.completed", () => {
    const item = { item_id: message.id, output_index: 0, content_index: 0 };
    const body = sse([
      ["response.created", { type: "response.created", sequence_number: 0, response: response("in_progress", null) }],
      ["response.in_progress", { type: "response.in_progress", sequence_number: 1, response: response("in_progress", null) }],
      ["response.output_item.added", { type: "response.output_item.added", sequence_number: 2, output_index: 0, item: { ...message, status: "in_progress", content: [] } }],
      ["response.content_part.added", { type: "response.content_part.added", sequence_number: 3, ...item, part: { type: "output_text", text: "", annotations: [] } }],
      ["response.output_text.delta", { type: "response.output_text.delta", sequence_number: 4, ...item, delta: "Hi there!" }],
      ["response.output_text.delta", { type: "response.output_text.delta", sequence_number: 5, ...item, delta: " How can I assist you today?" }],
      ["response.output_text.done", { type: "response.output_text.done", sequence_number: 6, ...item, text: message.content[0]!.text }],
      ["response.content_part.done", { type: "response.content_part.done", sequence_number: 7, ...item, part: message.content[0] }],
      ["response.output_item.done", { type: "response.output_item.done", sequence_number: 8, output_index: 0, item: message }],
      ["response.completed", { type: "response.completed", sequence_number: 9, response: response("completed", usage, [message]) }],
    ]);
    expectUsage("openai-responses", true, body, { inputTokens: 37, outputTokens: 11, cachedTokens: 12, reasoningTokens: 4 });
  });

  it("streamed: response.incomplete carries usage too", () => {
    const body = sse([
      ["response.created", { type: "response.created", sequence_number: 0, response: response("in_progress", null) }],
      ["response.incomplete", { type: "response.incomplete", sequence_number: 1, response: { ...response("incomplete", { ...usage, output_tokens: 64 }), incomplete_details: { reason: "max_output_tokens" } } }],
    ]);
    expectUsage("openai-responses", true, body, { inputTokens: 37, outputTokens: 64, cachedTokens: 12, reasoningTokens: 4 });
  });

  it("not streamed", () => {
    expectUsage("openai-responses", false, JSON.stringify(response("completed", usage, [message])), { inputTokens: 37, outputTokens: 11, cachedTokens: 12, reasoningTokens: 4 });
  });
});

describe("UsageTap: gemini", () => {
  const chunk = (text: string, usageMetadata: object, finishReason?: string) => ({
    candidates: [{ content: { parts: [{ text }], role: "model" }, ...(finishReason ? { finishReason } : {}), index: 0 }],
    usageMetadata,
    modelVersion: "gemini-2.5-flash",
    responseId: "mKvRaPGbJpSmz7IPyc_5yAo",
  });
  const first = { promptTokenCount: 9, totalTokenCount: 9, promptTokensDetails: [{ modality: "TEXT", tokenCount: 9 }] };
  const last = {
    promptTokenCount: 2009,
    candidatesTokenCount: 40,
    totalTokenCount: 2120,
    cachedContentTokenCount: 1500,
    thoughtsTokenCount: 71,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: 2009 }],
    cacheTokensDetails: [{ modality: "TEXT", tokenCount: 1500 }],
  };
  const expected = { inputTokens: 2009, outputTokens: 111, cachedTokens: 1500, reasoningTokens: 71 };

  it("streamed with ?alt=sse (CRLF line endings): the last usageMetadata wins", () => {
    const body = sse([[chunk("The", first)], [chunk(' sky } ] { [ "is" blue', { ...first, candidatesTokenCount: 3 })], [chunk(".", last, "STOP")]], "\r\n");
    expectUsage("gemini", true, body, expected);
  });

  it("streamed without alt=sse: the JSON array, objects read as they complete", () => {
    // The shape :streamGenerateContent answers with: a pretty-printed array, ",\r\n" between elements.
    // Strings holding brackets, quotes and backslashes, in the element whose usage counts.
    const elements = [chunk("The", first), chunk(" sky", { ...first, candidatesTokenCount: 3 }), chunk('is } ] { [ "blue" "}}]" \\ .\\', last, "STOP")];
    const body = `[${elements.map((e) => JSON.stringify(e, null, 2)).join(",\r\n")}]`;
    expectUsage("gemini", true, body, expected);
  });

  it("streamed without alt=sse: usage is counted before the array closes", () => {
    const t = new UsageTap({ dialect: "gemini", streaming: true });
    t.push(utf8(`[${JSON.stringify(chunk("a", first))},\r\n${JSON.stringify(chunk("b", last, "STOP"))}`));
    expect(t.end()).toEqual(expected);
  });

  it("thoughts and tool-use prompt tokens are added to output and input as totalTokenCount does", () => {
    const usageMetadata = { promptTokenCount: 100, toolUsePromptTokenCount: 20, candidatesTokenCount: 30, thoughtsTokenCount: 50, totalTokenCount: 200 };
    expectUsage("gemini", false, JSON.stringify(chunk("x", usageMetadata, "STOP")), { inputTokens: 120, outputTokens: 80, reasoningTokens: 50 });
  });

  it("not streamed", () => {
    expectUsage("gemini", false, JSON.stringify(chunk("The sky is blue.", last, "STOP"), null, 2), expected);
  });

  it("an error inside the array is not usage", () => {
    expectUsage("gemini", true, JSON.stringify([{ error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } }]), {});
  });
});

describe("UsageTap: ollama", () => {
  const line = (o: object) => `${JSON.stringify(o)}\n`;

  it("streamed: NDJSON, counts on the done:true line", () => {
    const body = [
      line({ model: "llama3.2", created_at: "2023-08-04T08:52:19.385406455-07:00", message: { role: "assistant", content: "The", images: null }, done: false }),
      line({ model: "llama3.2", created_at: "2023-08-04T08:52:19.385406455-07:00", message: { role: "assistant", content: " sky", images: null }, done: false }),
      line({
        model: "llama3.2",
        created_at: "2023-08-04T19:22:45.499127Z",
        message: { role: "assistant", content: "" },
        done_reason: "stop",
        done: true,
        total_duration: 4883583458,
        load_duration: 1334875,
        prompt_eval_count: 26,
        prompt_eval_duration: 342546000,
        eval_count: 282,
        eval_duration: 4535599000,
      }),
    ].join("");
    expectUsage("ollama", true, body, { inputTokens: 26, outputTokens: 282 });
  });

  it("streamed: a final line without its LF still counts", () => {
    expectUsage("ollama", true, '{"done":false}\n{"done":true,"prompt_eval_count":3,"eval_count":4}', { inputTokens: 3, outputTokens: 4 });
  });

  it("not streamed", () => {
    const body = JSON.stringify({
      model: "llama3.2",
      created_at: "2023-12-12T14:13:43.416799Z",
      message: { role: "assistant", content: "Hello! How are you today?" },
      done: true,
      total_duration: 5191566416,
      load_duration: 2154458,
      prompt_eval_count: 26,
      prompt_eval_duration: 383809000,
      eval_count: 298,
      eval_duration: 4799921000,
    });
    expectUsage("ollama", false, body, { inputTokens: 26, outputTokens: 298 });
  });
});

describe("UsageTap: a stream that fails after its head", () => {
  const failure = (dialect: UsageTapDialect, body: string, cut = 7): string | null => {
    const t = new UsageTap({ dialect, streaming: true });
    const bytes = utf8(body);
    for (let i = 0; i < bytes.length; i += cut) t.push(bytes.subarray(i, i + cut));
    t.end();
    return t.failure();
  };

  it.each([
    ["anthropic", sse([["message_start", { type: "message_start", message: { usage: { input_tokens: 3 } } }], ["error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }]]), "Overloaded"],
    ["openai-chat", sse([[{ choices: [{ index: 0, delta: { content: "Hi" } }] }], [{ error: { message: "The server had an error", type: "server_error" } }]]), "The server had an error"],
    ["openai-responses", sse([["response.failed", { type: "response.failed", response: { status: "failed", error: { code: "server_error", message: "went wrong" } } }]]), "went wrong"],
    ["openai-responses", sse([["error", { type: "error", code: "server_error", message: "flat error", param: null }]]), "flat error"],
    ["gemini", sse([[{ candidates: [{ content: { parts: [{ text: "Hi" }] } }] }], [{ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }]]), "The model is overloaded."],
    ["ollama", '{"message":{"role":"assistant","content":"Hi"},"done":false}\n{"error":"model runner has unexpectedly stopped"}\n', "model runner has unexpectedly stopped"],
  ] as [UsageTapDialect, string, string][])("%s: names the error event's message", (dialect, body, message) => {
    expect(failure(dialect, body)).toBe(message);
  });

  it("a clean stream whose text talks about errors has no failure", () => {
    const body = sse([[{ choices: [{ index: 0, delta: { content: 'an "error" in {"error": 1}' } }] }], [{ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }], ["[DONE]"]]);
    expect(failure("openai-chat", body)).toBeNull();
    expect(failure("openai-responses", sse([["response.completed", { type: "response.completed", response: { status: "completed", error: null, usage: { input_tokens: 1, output_tokens: 1 } } }]]))).toBeNull();
  });
});

describe("UsageTap: robustness", () => {
  it("end() is idempotent and later pushes are ignored", () => {
    const t = new UsageTap({ dialect: "openai-chat", streaming: false });
    t.push(utf8('{"usage":{"prompt_tokens":1,"completion_tokens":2}}'));
    expect(t.end()).toEqual({ inputTokens: 1, outputTokens: 2 });
    t.push(utf8("garbage"));
    expect(t.end()).toEqual({ inputTokens: 1, outputTokens: 2 });
  });

  it("gives up on a non-streamed body over the cap", () => {
    const t = new UsageTap({ dialect: "openai-chat", streaming: false });
    t.push(utf8('{"usage":{"prompt_tokens":1,"completion_tokens":2},"pad":"'));
    t.push(new Uint8Array(MAX_BUFFERED_BYTES));
    t.push(utf8('"}'));
    expect(t.gaveUp).toBe(true);
    expect(t.end()).toEqual({});
  });

  it("reads a streamed body sent as plain JSON (a wrong flag)", () => {
    expectUsage("openai-chat", true, '{"usage":{"prompt_tokens":1,"completion_tokens":2}}', { inputTokens: 1, outputTokens: 2 });
  });

  it("reads a non-streamed body that is SSE after all", () => {
    expectUsage("openai-chat", false, 'data: {"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\ndata: [DONE]\n\n', { inputTokens: 1, outputTokens: 2 });
  });

  it("a stream cut off mid-event keeps what completed events gave", () => {
    const body = sse([[{ type: "message_start", message: { usage: { input_tokens: 5, output_tokens: 1 } } }]]) + 'event: message_delta\ndata: {"type":"message_delta","usage":{"output_';
    expectUsage("anthropic", true, body, { inputTokens: 5, outputTokens: 1 });
  });

  it("ignores numbers that are not token counts", () => {
    expectUsage("openai-chat", false, '{"usage":{"prompt_tokens":-1,"completion_tokens":"7","prompt_tokens_details":null}}', {});
  });

  it("never throws on arbitrary bytes", () => {
    const dialects: UsageTapDialect[] = ["anthropic", "openai-chat", "openai-responses", "openai-completions", "openai-embeddings", "gemini", "ollama"];
    fc.assert(
      fc.property(fc.constantFrom(...dialects), fc.boolean(), fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (dialect, streaming, chunks) => {
        expect(() => tap(dialect, streaming, chunks)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

describe("estimateTokens", () => {
  const chars = (...parts: string[]) => Math.ceil(parts.join("").length / 4);

  it("anthropic: system, messages and tools text / 4, plus max_tokens", () => {
    const body = {
      model: "claude-sonnet-4-5-very-long-model-name-that-is-not-counted",
      max_tokens: 2048,
      system: "You are terse.",
      messages: [
        { role: "user", content: "Hello there" },
        { role: "assistant", content: [{ type: "text", text: "Hi" }] },
      ],
      tools: [{ name: "get_weather", description: "Weather now", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
    };
    const text = ["You are terse.", "user", "Hello there", "assistant", "text", "Hi", "get_weather", "Weather now", "object", "string"];
    expect(estimateTokens(body)).toBe(chars(...text) + 2048);
  });

  it("openai chat: max_completion_tokens, or the default allowance", () => {
    const messages = [{ role: "user", content: "abcdefgh" }];
    expect(estimateTokens({ model: "gpt-4o", messages, max_completion_tokens: 100 })).toBe(chars("user", "abcdefgh") + 100);
    expect(estimateTokens({ model: "gpt-4o", messages })).toBe(chars("user", "abcdefgh") + DEFAULT_OUTPUT_ALLOWANCE);
  });

  it("responses: input and instructions, plus max_output_tokens", () => {
    expect(estimateTokens({ model: "gpt-4.1", instructions: "Be brief.", input: "Tell me a joke.", max_output_tokens: 300 })).toBe(chars("Be brief.", "Tell me a joke.") + 300);
  });

  it("completions and embeddings: prompt / input, token ids counted one each", () => {
    expect(estimateTokens({ model: "gpt-3.5-turbo-instruct", prompt: "Say this is a test", max_tokens: 7 })).toBe(chars("Say this is a test") + 7);
    expect(estimateTokens({ model: "text-embedding-3-small", input: [[1, 2, 3], [4, 5]] })).toBe(5 + DEFAULT_OUTPUT_ALLOWANCE);
  });

  it("gemini: contents and systemInstruction, plus generationConfig.maxOutputTokens", () => {
    const body = {
      systemInstruction: { parts: [{ text: "You are a cat." }] },
      contents: [{ role: "user", parts: [{ text: "Hello" }] }],
      generationConfig: { maxOutputTokens: 500, temperature: 0.2 },
    };
    expect(estimateTokens(body)).toBe(chars("You are a cat.", "user", "Hello") + 500);
  });

  it("ollama: messages plus options.num_predict; -1 is no limit", () => {
    const messages = [{ role: "user", content: "why is the sky blue?" }];
    expect(estimateTokens({ model: "llama3.2", messages, options: { num_predict: 64 } })).toBe(chars("user", "why is the sky blue?") + 64);
    expect(estimateTokens({ model: "llama3.2", messages, options: { num_predict: -1 } })).toBe(chars("user", "why is the sky blue?") + DEFAULT_OUTPUT_ALLOWANCE);
  });

  it("takes the largest output limit when several are set", () => {
    expect(estimateTokens({ messages: [], max_tokens: 10, max_completion_tokens: 50 })).toBe(50);
  });

  it("counts inline base64 media as a flat allowance, not by its length", () => {
    const b64 = "iVBORw0KGgo".repeat(10_000);
    const body = {
      max_tokens: 1,
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${b64}` } }] },
        { role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: b64 } }] },
        { role: "user", content: "x", images: [b64, b64] },
      ],
      contents: [{ role: "user", parts: [{ inlineData: { mimeType: "image/png", data: b64 } }] }],
    };
    const text = chars("user", "image_url", "user", "image", "base64", "image/png", "user", "x", "user", "image/png");
    expect(estimateTokens(body)).toBe(text + 5 * INLINE_MEDIA_TOKENS + 1);
  });

  it("a request without a body reserves nothing", () => {
    expect(estimateTokens(null)).toBe(0);
    expect(estimateTokens(undefined)).toBe(0);
    expect(estimateTokens("text")).toBe(0);
  });

  it("survives a deeply nested body", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(estimateTokens({ messages: deep, max_tokens: 1 })).toBe(2);
  });
});
