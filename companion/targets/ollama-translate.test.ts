import { describe, expect, it } from "vitest";
import {
  chatRequestToOllama,
  embeddingsRequestToOllama,
  finishReasonOf,
  floatsToBase64,
  ollamaChatToOpenAI,
  ollamaEmbedToOpenAI,
  ollamaTagsToOpenAIModels,
  OllamaToOpenAIStream,
  OllamaTranslationError,
  type OllamaChatChunk,
  type OpenAIChatRequest,
} from "./ollama-translate.ts";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

function ids(prefix: string) {
  let n = 0;
  return () => `${prefix}${++n}`;
}

describe("chatRequestToOllama", () => {
  it("text with a system prompt; stream written out explicitly", () => {
    const out = chatRequestToOllama(
      {
        model: "client-name",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Why is the sky blue?" },
        ],
      },
      "llama3.2",
    );
    expect(out).toEqual({
      model: "llama3.2",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Why is the sky blue?" },
      ],
      stream: false,
    });
  });

  it("multi-turn with developer role, content parts and sampling options", () => {
    const out = chatRequestToOllama(
      {
        messages: [
          { role: "developer", content: [{ type: "text", text: "Rule one." }, { type: "text", text: "Rule two." }] },
          { role: "user", content: "why is the sky blue?" },
          { role: "assistant", content: "due to rayleigh scattering." },
          { role: "user", content: [{ type: "text", text: "how is that different than mie scattering?" }] },
        ],
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 50,
        max_completion_tokens: 100,
        stop: "\n\n",
        seed: 42,
        frequency_penalty: 0.5,
        presence_penalty: 0.25,
        stream: true,
        stream_options: { include_usage: true },
      },
      "llama3.2",
    );
    expect(out).toEqual({
      model: "llama3.2",
      messages: [
        { role: "system", content: "Rule one.\nRule two." },
        { role: "user", content: "why is the sky blue?" },
        { role: "assistant", content: "due to rayleigh scattering." },
        { role: "user", content: "how is that different than mie scattering?" },
      ],
      stream: true,
      options: { temperature: 0.2, top_p: 0.9, num_predict: 100, stop: ["\n\n"], seed: 42, frequency_penalty: 0.5, presence_penalty: 0.25 },
    });
  });

  it("max_tokens alone → num_predict; stop array kept; temperature 0 kept", () => {
    const out = chatRequestToOllama({ messages: [{ role: "user", content: "hi" }], max_tokens: 7, stop: ["a", "b"], temperature: 0 }, "m");
    expect(out.options).toEqual({ num_predict: 7, stop: ["a", "b"], temperature: 0 });
  });

  it("images from data: URLs become base64 `images` on the user message", () => {
    const out = chatRequestToOllama(
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "what is in this image?" },
              { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "low" } },
              { type: "image_url", image_url: { url: `data:;base64,${PNG}` } },
            ],
          },
        ],
      },
      "llava",
    );
    expect(out.messages).toEqual([{ role: "user", content: "what is in this image?", images: [PNG, PNG] }]);
  });

  it("remote image URLs and other part types are refused as unsupported", () => {
    const remote = () => chatRequestToOllama({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] }] }, "m");
    expect(remote).toThrow(OllamaTranslationError);
    expect(remote).toThrow(/data: URLs/);
    const audio = () => chatRequestToOllama({ messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "x", format: "wav" } }] }] }, "m");
    expect(audio).toThrow(expect.objectContaining({ code: "unsupported" }));
    const pdf = () => chatRequestToOllama({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:application/pdf;base64,AAAA" } }] }] }, "m");
    expect(pdf).toThrow(/application\/pdf/);
  });

  it("tools, assistant tool calls and tool results (tool_name from tool_call_id)", () => {
    const body: OpenAIChatRequest = {
      messages: [
        { role: "user", content: "what is the weather in Toronto and Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Toronto"}' } },
            { id: "call_b", type: "function", function: { name: "get_time", arguments: "" } },
          ],
        },
        { role: "tool", tool_call_id: "call_a", content: "11 degrees celsius" },
        { role: "tool", tool_call_id: "call_b", content: [{ type: "text", text: "14:00" }] },
        { role: "tool", tool_call_id: "unknown", content: "orphan" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Get the weather in a given city",
            parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
            strict: true,
          },
        },
      ],
      tool_choice: "auto",
    };
    expect(chatRequestToOllama(body, "llama3.2")).toEqual({
      model: "llama3.2",
      stream: false,
      messages: [
        { role: "user", content: "what is the weather in Toronto and Paris?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{ function: { name: "get_weather", arguments: { city: "Toronto" } } }, { function: { name: "get_time", arguments: {} } }],
        },
        { role: "tool", content: "11 degrees celsius", tool_name: "get_weather" },
        { role: "tool", content: "14:00", tool_name: "get_time" },
        { role: "tool", content: "orphan" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Get the weather in a given city",
            parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          },
        },
      ],
    });
  });

  it("tool_choice none drops the tools; bad arguments and non-function tools are refused", () => {
    const tools: OpenAIChatRequest["tools"] = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
    expect(chatRequestToOllama({ messages: [{ role: "user", content: "x" }], tools, tool_choice: "none" }, "m").tools).toBeUndefined();
    const bad = () =>
      chatRequestToOllama({ messages: [{ role: "assistant", content: "", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{not json" } }] }] }, "m");
    expect(bad).toThrow(expect.objectContaining({ code: "bad_request" }));
    const custom = () => chatRequestToOllama({ messages: [{ role: "user", content: "x" }], tools: [{ type: "custom" }] }, "m");
    expect(custom).toThrow(expect.objectContaining({ code: "unsupported" }));
  });

  it("JSON mode and structured outputs", () => {
    const base = { messages: [{ role: "user" as const, content: "Return JSON" }] };
    expect(chatRequestToOllama({ ...base, response_format: { type: "json_object" } }, "m").format).toBe("json");
    const schema = { type: "object", properties: { age: { type: "integer" }, available: { type: "boolean" } }, required: ["age", "available"] };
    expect(chatRequestToOllama({ ...base, response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } } }, "m").format).toEqual(schema);
    expect(chatRequestToOllama({ ...base, response_format: { type: "text" } }, "m").format).toBeUndefined();
  });

  it("reasoning_effort → think; keep_alive only when the companion sets it", () => {
    const base = { messages: [{ role: "user" as const, content: "x" }] };
    expect(chatRequestToOllama({ ...base, reasoning_effort: "none" }, "m").think).toBe(false);
    expect(chatRequestToOllama({ ...base, reasoning_effort: "high" }, "m").think).toBe("high");
    expect(chatRequestToOllama(base, "m").think).toBeUndefined();
    expect(chatRequestToOllama(base, "m").keep_alive).toBeUndefined();
    expect(chatRequestToOllama(base, "m", { keepAlive: "10m" }).keep_alive).toBe("10m");
  });

  it("refuses n > 1 and malformed bodies", () => {
    expect(() => chatRequestToOllama({ messages: [{ role: "user", content: "x" }], n: 2 }, "m")).toThrow(/n > 1/);
    expect(() => chatRequestToOllama({} as OpenAIChatRequest, "m")).toThrow(/messages/);
    expect(() => chatRequestToOllama({ messages: [{ role: "wizard" }] } as unknown as OpenAIChatRequest, "m")).toThrow(/unknown message role/);
  });
});

describe("ollamaChatToOpenAI", () => {
  it("text answer with usage from prompt_eval_count / eval_count", () => {
    const out = ollamaChatToOpenAI(
      {
        model: "llama3.2",
        created_at: "2023-12-12T14:13:43.416799Z",
        message: { role: "assistant", content: "Hello! How are you today?" },
        done: true,
        done_reason: "stop",
        total_duration: 5191566416,
        load_duration: 2154458,
        prompt_eval_count: 26,
        prompt_eval_duration: 383809000,
        eval_count: 298,
        eval_duration: 4799921000,
      },
      "my-alias",
      { id: "chatcmpl-1" },
    );
    expect(out).toEqual({
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1702390423,
      model: "my-alias",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello! How are you today?", refusal: null }, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 26, completion_tokens: 298, total_tokens: 324 },
    });
  });

  it("tool calls: generated call_ ids, JSON-string arguments, finish_reason tool_calls, content null", () => {
    const out = ollamaChatToOpenAI(
      {
        message: {
          role: "assistant",
          content: "",
          tool_calls: [
            { function: { name: "get_weather", arguments: { city: "Tokyo" } } },
            { id: "call_from_ollama", function: { index: 1, name: "get_time", arguments: { tz: "JST", opts: { h24: true } } } },
          ],
        },
        done: true,
        done_reason: "stop",
        prompt_eval_count: 169,
        eval_count: 18,
      },
      "m",
    );
    const message = out.choices[0]!.message;
    expect(out.choices[0]!.finish_reason).toBe("tool_calls");
    expect(message.content).toBeNull();
    expect(message.tool_calls).toHaveLength(2);
    expect(message.tool_calls![0]).toEqual({ id: expect.stringMatching(/^call_[0-9A-Za-z]{24}$/), type: "function", function: { name: "get_weather", arguments: '{"city":"Tokyo"}' } });
    expect(message.tool_calls![1]).toEqual({ id: "call_from_ollama", type: "function", function: { name: "get_time", arguments: '{"tz":"JST","opts":{"h24":true}}' } });
    expect(out.id).toMatch(/^chatcmpl-/);
  });

  it("length, thinking and missing counts", () => {
    const out = ollamaChatToOpenAI({ message: { role: "assistant", content: "partial", thinking: "hmm" }, done: true, done_reason: "length", eval_count: 5 }, "m", { id: "x", created: 1 });
    expect(out.choices[0]).toEqual({ index: 0, message: { role: "assistant", content: "partial", reasoning_content: "hmm", refusal: null }, logprobs: null, finish_reason: "length" });
    expect(out.usage).toEqual({ prompt_tokens: 0, completion_tokens: 5, total_tokens: 5 });
  });

  it("stop reasons", () => {
    expect(finishReasonOf("stop", false)).toBe("stop");
    expect(finishReasonOf("length", false)).toBe("length");
    expect(finishReasonOf("length", true)).toBe("tool_calls");
    expect(finishReasonOf("load", false)).toBe("stop");
    expect(finishReasonOf(undefined, false)).toBe("stop");
  });
});

describe("OllamaToOpenAIStream", () => {
  const line = (content: string, extra: Partial<OllamaChatChunk> = {}): OllamaChatChunk => ({
    model: "llama3.2",
    created_at: "2023-08-04T08:52:19.385406455-07:00",
    message: { role: "assistant", content },
    done: false,
    ...extra,
  });
  const doneLine = (extra: Partial<OllamaChatChunk> = {}): OllamaChatChunk => ({
    model: "llama3.2",
    created_at: "2023-08-04T19:22:45.499127Z",
    message: { role: "assistant", content: "" },
    done: true,
    done_reason: "stop",
    total_duration: 4883583458,
    load_duration: 1334875,
    prompt_eval_count: 26,
    prompt_eval_duration: 342546000,
    eval_count: 282,
    eval_duration: 4535599000,
    ...extra,
  });
  const head = '"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":"alias"';

  it("text transcript: role on the first chunk, one chunk per line, finish then [DONE]", () => {
    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: false, id: "chatcmpl-abc", created: 1700000000 });
    const out = [t.push(line("The")), t.push(line(" sky")), t.push(line("")), t.push(doneLine()), t.end()];
    expect(out).toEqual([
      [`data: {${head},"choices":[{"index":0,"delta":{"role":"assistant","content":"The"},"logprobs":null,"finish_reason":null}]}\n\n`],
      [`data: {${head},"choices":[{"index":0,"delta":{"content":" sky"},"logprobs":null,"finish_reason":null}]}\n\n`],
      [],
      [],
      [`data: {${head},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\n`, "data: [DONE]\n\n"],
    ]);
  });

  it("include_usage: usage null on every chunk, then a usage chunk with empty choices before [DONE]", () => {
    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: true, id: "chatcmpl-abc", created: 1700000000 });
    const transcript = [...t.push(line("")), ...t.push(line("Hi")), ...t.push(doneLine({ done_reason: "length", prompt_eval_count: 26, eval_count: 1 })), ...t.end()].join("");
    expect(transcript).toBe(
      `data: {${head},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}\n\n` +
        `data: {${head},"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n` +
        `data: {${head},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":null}\n\n` +
        `data: {${head},"choices":[],"usage":{"prompt_tokens":26,"completion_tokens":1,"total_tokens":27}}\n\n` +
        "data: [DONE]\n\n",
    );
  });

  it("thinking → reasoning_content, then content; content on the done line is not lost", () => {
    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: false, id: "chatcmpl-abc", created: 1700000000 });
    const chunks = [
      ...t.push({ message: { role: "assistant", content: "", thinking: "The user" }, done: false }),
      ...t.push({ message: { role: "assistant", content: "", thinking: " asks" }, done: false }),
      ...t.push({ message: { role: "assistant", content: "Blue", thinking: "." }, done: false }),
      ...t.push({ message: { role: "assistant", content: "!" }, done: true, done_reason: "stop", prompt_eval_count: 3, eval_count: 4 }),
      ...t.end(),
    ].map((s) => (s.startsWith("data: {") ? JSON.parse(s.slice(6)) : s));
    expect(chunks.map((c) => (typeof c === "string" ? c : c.choices[0]?.delta))).toEqual([
      { role: "assistant", reasoning_content: "The user" },
      { reasoning_content: " asks" },
      { reasoning_content: "." },
      { content: "Blue" },
      { content: "!" },
      {},
      "data: [DONE]\n\n",
    ]);
    expect(chunks[5].choices[0].finish_reason).toBe("stop");
  });

  it("tool calls: indexed deltas with id, type and full JSON arguments; finish_reason tool_calls", () => {
    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: false, id: "chatcmpl-abc", created: 1700000000, toolCallId: ids("call_") });
    const out = [
      ...t.push({
        model: "llama3.2",
        created_at: "2025-07-07T20:22:19.184789Z",
        message: { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Tokyo" } } }] },
        done: false,
      }),
      ...t.push({ message: { role: "assistant", content: "", tool_calls: [{ id: "call_x", function: { name: "get_time", arguments: {} } }] }, done: false }),
      ...t.push(doneLine({ prompt_eval_count: 169, eval_count: 15 })),
      ...t.end(),
    ];
    expect(out).toEqual([
      `data: {${head},"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Tokyo\\"}"}}]},"logprobs":null,"finish_reason":null}]}\n\n`,
      `data: {${head},"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_x","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}\n\n`,
      `data: {${head},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}\n\n`,
      "data: [DONE]\n\n",
    ]);
  });

  it("an {error} line mid-stream becomes an OpenAI error chunk and ends the stream", () => {
    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: true, id: "chatcmpl-abc", created: 1700000000 });
    const out = [
      ...t.push(line(" Yes")),
      ...t.push({ error: "an error was encountered while running the model" }),
      ...t.push(line("ignored")),
      ...t.push(doneLine()),
      ...t.end(),
    ];
    expect(out).toEqual([
      `data: {${head},"choices":[{"index":0,"delta":{"role":"assistant","content":" Yes"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
      'data: {"error":{"message":"an error was encountered while running the model","type":"ollama_error","param":null,"code":null}}\n\n',
      "data: [DONE]\n\n",
    ]);
  });

  it("a stream that closes before done ends with an error chunk, not a clean finish", () => {
    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: true, id: "chatcmpl-abc", created: 1700000000 });
    t.push(line("cut"));
    const end = t.end();
    expect(end).toHaveLength(2);
    expect(JSON.parse(end[0]!.slice(6))).toEqual({ error: { message: expect.stringMatching(/before the answer was done/), type: "ollama_error", param: null, code: null } });
    expect(end[1]).toBe("data: [DONE]\n\n");
    expect(t.end()).toEqual(["data: [DONE]\n\n"]);
  });

  it("reports usage read from the done line", () => {
    const t = new OllamaToOpenAIStream({ model: "alias", includeUsage: false, id: "i", created: 0 });
    expect(t.usageSoFar).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    t.push(doneLine());
    expect(t.usageSoFar).toEqual({ prompt_tokens: 26, completion_tokens: 282, total_tokens: 308 });
  });
});

describe("embeddings", () => {
  it("request: text or list of text, dimensions kept, model chosen by the companion", () => {
    expect(embeddingsRequestToOllama({ model: "text-embedding-3-small", input: "Why is the sky blue?" }, "all-minilm")).toEqual({ model: "all-minilm", input: "Why is the sky blue?" });
    expect(embeddingsRequestToOllama({ model: "all-minilm", input: ["a", "b"], dimensions: 256, encoding_format: "float", user: "u" })).toEqual({
      model: "all-minilm",
      input: ["a", "b"],
      dimensions: 256,
    });
    expect(() => embeddingsRequestToOllama({ model: "m", input: [1, 2, 3] })).toThrow(expect.objectContaining({ code: "unsupported" }));
  });

  it("response: list of embeddings with index and usage", () => {
    const resp = {
      model: "all-minilm",
      embeddings: [
        [0.010071029, -0.0017594862],
        [-0.0098027075, 0.06042469],
      ],
      total_duration: 14143917,
      load_duration: 1019500,
      prompt_eval_count: 8,
    };
    expect(ollamaEmbedToOpenAI(resp, "alias")).toEqual({
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [0.010071029, -0.0017594862] },
        { object: "embedding", index: 1, embedding: [-0.0098027075, 0.06042469] },
      ],
      model: "alias",
      usage: { prompt_tokens: 8, total_tokens: 8 },
    });
  });

  it("base64 encoding is little-endian float32, as the OpenAI SDK decodes it", () => {
    const vector = [0.5, -1.25, 3];
    const out = ollamaEmbedToOpenAI({ embeddings: [vector] }, "m", { encodingFormat: "base64" });
    const b64 = out.data[0]!.embedding as string;
    expect(b64).toBe(floatsToBase64(vector));
    const decoded = new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
    expect([...decoded]).toEqual(vector);
    expect(out.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
  });
});

describe("ollamaTagsToOpenAIModels", () => {
  it("names become ids; modified_at becomes created", () => {
    const out = ollamaTagsToOpenAIModels({
      models: [
        { name: "codellama:13b", modified_at: "2023-11-04T14:56:49.277302595-07:00", size: 7365960935, digest: "9f43", details: { format: "gguf", family: "llama", families: null, parameter_size: "13B", quantization_level: "Q4_0" } },
        { name: "llama3:latest" },
      ],
    });
    expect(out).toEqual({
      object: "list",
      data: [
        { id: "codellama:13b", object: "model", created: 1699135009, owned_by: "ollama" },
        { id: "llama3:latest", object: "model", created: 0, owned_by: "ollama" },
      ],
    });
    expect(ollamaTagsToOpenAIModels({ models: [] })).toEqual({ object: "list", data: [] });
  });
});
