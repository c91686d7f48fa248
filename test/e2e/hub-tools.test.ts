/**
 * Tool use and structured output across dialects, end to end: the official SDKs (and raw fetch
 * for the recorded Gemini CLI call) → the companion → the tunnel → the worker in workerd → the
 * stand-in upstreams (or the stand-in Ollama). The stand-ins answer with tool calls written the
 * way each provider's docs show them on the wire; the tests check both what the client got and
 * what the target received on the way back (tool results, forced JSON tool, response_format).
 */
import { readFileSync } from "node:fs";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, Type } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FERRY_JSON_TOOL } from "../../companion/hub/anthropic/index.ts";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";
import { textStream, type StreamStep } from "../helpers/ollama.ts";
import { anthropicMessage, anthropicStreamFrames, openaiChatCompletion, openaiResponse, sseFrame, streamFrames } from "../helpers/provider-mocks.ts";
import { anthropicUsage } from "../helpers/tool-answers.ts";
import type { Behaviour, Recorded } from "../helpers/upstream.ts";

const KEY = projectKey();
let chain: Chain;

const M = {
  anthropic: "tools-anthropic",
  openai: "tools-openai",
  ollama: "tools-ollama",
  /** The model the recorded Gemini CLI router call names in its path. */
  router: "gemini-3.5-flash-lite",
} as const;

beforeAll(async () => {
  chain = await startChain({
    pools: {
      anthropic: { type: "anthropic", prefix: "/ant" },
      openai: { type: "openai", prefix: "/oai" },
      responses: { type: "openai", prefix: "/rsp" },
    },
    companion: () => ({
      edgePools: { anthropic: { dialect: "anthropic" }, openai: { dialect: "openai" }, responses: { dialect: "openai", responsesApi: true, translateVia: "responses" } },
      models: {
        [M.anthropic]: ["edge:anthropic/claude-target"],
        [M.openai]: ["edge:openai/gpt-target"],
        [M.ollama]: ["ollama:qwen-target"],
        [M.router]: ["edge:anthropic/claude-router"],
      },
      projects: [{ id: "tools", keys: [KEY] }],
    }),
  });
});

afterAll(async () => {
  await chain?.close();
});

beforeEach(() => {
  chain.up.reset();
  chain.ollama.reset();
});

// ---------------------------------------------------------------------------------------------
// Stand-in plumbing

const bodyOf = (rec: Recorded) => JSON.parse(rec.body.toString("utf8")) as Record<string, any>;
const hitBodies = (prefix: string) => chain.up.hits(prefix).map(bodyOf);

/** Answers plain or streamed, as the request's `stream` asks (Anthropic and OpenAI chat alike). */
function plainOrStream(plain: unknown, frames: string[], headers: Record<string, string> = {}): Behaviour {
  return async (req, res, rec) => {
    if (bodyOf(rec).stream === true) return streamFrames(frames, { headers })(req, res, rec);
    res.writeHead(200, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(plain));
  };
}

const ant = (type: string, body: Record<string, unknown> = {}) => sseFrame(type, { type, ...body });


interface ToolUse {
  id: string;
  name: string;
  input: Record<string, unknown>;
  /** How the streamed input is cut into input_json_delta fragments (must join to JSON of `input`). */
  fragments: string[];
}

/** A Messages API answer that calls a tool (docs, "Tool use" → the response with stop_reason tool_use). */
function anthropicToolMessage(model: string, text: string | null, tool: ToolUse) {
  return {
    id: "msg_01Aq9w938a90dw8q",
    type: "message",
    role: "assistant",
    model,
    content: [...(text === null ? [] : [{ type: "text", text }]), { type: "tool_use", id: tool.id, name: tool.name, input: tool.input }],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: anthropicUsage(472, 89),
  };
}

/**
 * The same answer streamed, event for event as in the streaming docs' "Streaming request with
 * tool use" example: the tool_use block starts with `input: {}`, its input arrives as
 * input_json_delta `partial_json` fragments (the first one empty), and message_delta carries
 * stop_reason tool_use.
 */
function anthropicToolFrames(model: string, text: string | null, tool: ToolUse): string[] {
  const frames = [
    ant("message_start", {
      message: { id: "msg_014p7gG3wDgGV9EUtLvnow3U", type: "message", role: "assistant", model, stop_sequence: null, usage: anthropicUsage(472, 2), content: [], stop_reason: null },
    }),
  ];
  let index = 0;
  if (text !== null) {
    frames.push(
      ant("content_block_start", { index, content_block: { type: "text", text: "" } }),
      ant("ping"),
      ...text.split(/(?<= )/).map((t) => ant("content_block_delta", { index, delta: { type: "text_delta", text: t } })),
      ant("content_block_stop", { index }),
    );
    index++;
  }
  frames.push(
    ant("content_block_start", { index, content_block: { type: "tool_use", id: tool.id, name: tool.name, input: {} } }),
    ...["", ...tool.fragments].map((partial_json) => ant("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } })),
    ant("content_block_stop", { index }),
    ant("message_delta", { delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 89 } }),
    ant("message_stop"),
  );
  return frames;
}

// ---------------------------------------------------------------------------------------------
// 1. OpenAI chat client with tools → Anthropic target

describe("OpenAI chat client → Anthropic target: tool calls and tool results", () => {
  const WEATHER_TOOL = {
    type: "function" as const,
    function: {
      name: "get_weather",
      description: "Get the current weather in a given location",
      parameters: {
        type: "object",
        properties: {
          location: { type: "string", description: "The city and state, e.g. San Francisco, CA" },
          unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        },
        required: ["location"],
      },
    },
  };
  const QUESTION = "What's the weather like in San Francisco?";
  const PREAMBLE = "I'll check the current weather in San Francisco for you.";
  const TOOL: ToolUse = {
    id: "toolu_01A09q90qw90lq917835lq9",
    name: "get_weather",
    input: { location: "San Francisco, CA", unit: "celsius" },
    fragments: ['{"location": "San Fra', 'ncisco, CA", "un', 'it": "celsius"}'],
  };
  const RESULT = "15 degrees, sunny";
  const FINAL = "It is 15 degrees and sunny in San Francisco.";

  const client = () => new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });

  /** What the Anthropic stand-in must get on the second turn: the call as tool_use, the result as tool_result. */
  const expectFollowUp = (body: Record<string, any>, stream: boolean) => {
    expect(body.model).toBe("claude-target");
    expect(body.stream === true).toBe(stream);
    expect(body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: QUESTION }] },
      { role: "assistant", content: [{ type: "text", text: PREAMBLE }, { type: "tool_use", id: TOOL.id, name: TOOL.name, input: TOOL.input }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: TOOL.id, content: RESULT }] },
    ]);
    expect(body.tools).toEqual([{ name: "get_weather", description: WEATHER_TOOL.function.description, input_schema: WEATHER_TOOL.function.parameters }]);
  };

  it("plain: tool_use comes back as tool_calls; the tool message goes back as a tool_result", async () => {
    chain.up.once("/ant", plainOrStream(anthropicToolMessage("claude-target", PREAMBLE, TOOL), []));
    const c = client();
    const first = await c.chat.completions.create({ model: M.anthropic, messages: [{ role: "user", content: QUESTION }], tools: [WEATHER_TOOL] });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBe(PREAMBLE);
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe("function");
    if (call.type !== "function") throw new Error("not a function call");
    expect(call.id).toBe(TOOL.id);
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual(TOOL.input);

    const [sent] = hitBodies("/ant");
    expect(sent!.messages).toEqual([{ role: "user", content: [{ type: "text", text: QUESTION }] }]);
    expect(sent!.tools).toEqual([{ name: "get_weather", description: WEATHER_TOOL.function.description, input_schema: WEATHER_TOOL.function.parameters }]);
    expect(sent!.stream).toBeUndefined();

    chain.up.once("/ant", plainOrStream(anthropicMessage("claude-target", { text: FINAL }), []));
    const second = await c.chat.completions.create({
      model: M.anthropic,
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: QUESTION },
        { role: "assistant", content: choice.message.content, tool_calls: choice.message.tool_calls },
        { role: "tool", tool_call_id: call.id, content: RESULT },
      ],
    });
    expect(second.choices[0]!.message.content).toBe(FINAL);
    expect(second.choices[0]!.finish_reason).toBe("stop");
    const bodies = hitBodies("/ant");
    expect(bodies).toHaveLength(2);
    expectFollowUp(bodies[1]!, false);
  });

  it("streamed: input_json_delta fragments become tool_calls argument deltas; the follow-up streams too", async () => {
    chain.up.once("/ant", plainOrStream(null, anthropicToolFrames("claude-target", PREAMBLE, TOOL)));
    const c = client();
    const stream = c.chat.completions.stream({ model: M.anthropic, messages: [{ role: "user", content: QUESTION }], tools: [WEATHER_TOOL] });
    const argumentDeltas: string[] = [];
    for await (const chunk of stream) {
      for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) if (tc.function?.arguments) argumentDeltas.push(tc.function.arguments);
    }
    const first = await stream.finalChatCompletion();
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBe(PREAMBLE);
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    if (call.type !== "function") throw new Error("not a function call");
    expect(call.id).toBe(TOOL.id);
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual(TOOL.input);
    // The fragments are passed on as they came (no re-serialisation mid-stream).
    expect(argumentDeltas).toEqual(TOOL.fragments);
    expect(hitBodies("/ant")[0]!.stream).toBe(true);

    chain.up.once("/ant", plainOrStream(null, anthropicStreamFrames("claude-target", { text: FINAL })));
    const second = await c.chat.completions
      .stream({
        model: M.anthropic,
        tools: [WEATHER_TOOL],
        messages: [
          { role: "user", content: QUESTION },
          { role: "assistant", content: choice.message.content, tool_calls: choice.message.tool_calls },
          { role: "tool", tool_call_id: call.id, content: RESULT },
        ],
      })
      .finalChatCompletion();
    expect(second.choices[0]!.message.content).toBe(FINAL);
    expect(second.choices[0]!.finish_reason).toBe("stop");
    const bodies = hitBodies("/ant");
    expect(bodies).toHaveLength(2);
    expectFollowUp(bodies[1]!, true);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Anthropic client with tools → OpenAI chat target answering with parallel tool calls

describe("Anthropic client → OpenAI chat target: parallel tool calls", () => {
  const TOOLS = [
    {
      name: "get_weather",
      description: "Get the current weather in a given location",
      input_schema: { type: "object" as const, properties: { location: { type: "string" } }, required: ["location"] },
    },
    {
      name: "get_time",
      description: "Get the current time in a given time zone",
      input_schema: { type: "object" as const, properties: { timezone: { type: "string" } }, required: ["timezone"] },
    },
  ];
  const CALLS = [
    { id: "call_Kx3GzAIMAbqJ2Ivlbqp7Hm0N", name: "get_weather", input: { location: "Paris, France" } },
    { id: "call_u8PfPL3jH6mEqbl5zcX3Bc6d", name: "get_time", input: { timezone: "Europe/Paris" } },
  ];
  const QUESTION = "What's the weather and the time in Paris?";

  /** Streamed chat chunks: both calls announced, then their argument fragments interleaved by index. */
  function parallelFrames(model: string, includeUsage: boolean): string[] {
    const base = { id: "chatcmpl-CZ1Lx4Qm0dn9VfWcb0aXqAS8sY3Kt", object: "chat.completion.chunk", created: 1_764_000_000, model, service_tier: "default", system_fingerprint: "fp_cbf1785567" };
    const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) =>
      sseFrame(null, { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }], ...(includeUsage ? { usage: null } : {}), obfuscation: "x9Qe" });
    const call = (index: number, args: string, head = false) => ({
      tool_calls: [head ? { index, id: CALLS[index]!.id, type: "function", function: { name: CALLS[index]!.name, arguments: args } } : { index, function: { arguments: args } }],
    });
    return [
      chunk({ role: "assistant", content: null, refusal: null, ...call(0, "", true) }),
      chunk(call(1, "", true)),
      chunk(call(0, '{"loca')),
      chunk(call(1, '{"timez')),
      chunk(call(0, 'tion": "Paris')),
      chunk(call(1, 'one": "Europe/')),
      chunk(call(0, ', France"}')),
      chunk(call(1, 'Paris"}')),
      chunk({}, "tool_calls"),
      ...(includeUsage
        ? [
            sseFrame(null, {
              ...base,
              choices: [],
              usage: { prompt_tokens: 82, completion_tokens: 51, total_tokens: 133, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } },
              obfuscation: "Zq",
            }),
          ]
        : []),
      sseFrame(null, "[DONE]"),
    ];
  }

  const parallelCompletion = (model: string) => {
    const c = openaiChatCompletion(model);
    c.choices[0] = {
      index: 0,
      message: {
        role: "assistant",
        content: null,
        refusal: null,
        annotations: [],
        tool_calls: CALLS.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: JSON.stringify(call.input) } })),
      } as never,
      logprobs: null,
      finish_reason: "tool_calls",
    };
    return c;
  };

  const behaviour: Behaviour = async (req, res, rec) => {
    const body = bodyOf(rec);
    const frames = parallelFrames(body.model, body.stream_options?.include_usage === true);
    return plainOrStream(parallelCompletion(body.model), frames)(req, res, rec);
  };

  const client = () => new Anthropic({ baseURL: chain.url, apiKey: KEY, maxRetries: 0 });
  const params = { model: M.openai, max_tokens: 1024, tools: TOOLS, messages: [{ role: "user" as const, content: QUESTION }] };
  const expected = CALLS.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.input }));

  const expectOpenAIRequest = (stream: boolean) => {
    const [sent] = hitBodies("/oai");
    expect(chain.up.hits("/oai")[0]!.url).toBe("/oai/v1/chat/completions");
    expect(sent!.model).toBe("gpt-target");
    expect(sent!.stream === true).toBe(stream);
    expect(sent!.messages).toEqual([{ role: "user", content: QUESTION }]);
    expect(sent!.tools).toEqual(TOOLS.map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.input_schema } })));
  };

  it("streamed: the interleaved fragments come out as two well-ordered tool_use blocks", async () => {
    chain.up.once("/oai", behaviour);
    const stream = client().messages.stream(params);
    const events: { type: string; index?: number }[] = [];
    for await (const ev of stream) events.push({ type: ev.type, ...("index" in ev ? { index: ev.index } : {}) });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toEqual(expected);

    // Anthropic's wire has one block open at a time, indexed 0, 1… in order.
    const blockEvents = events.filter((e) => e.type.startsWith("content_block_"));
    expect(blockEvents[0]).toEqual({ type: "content_block_start", index: 0 });
    let open: number | null = null;
    let next = 0;
    for (const e of blockEvents) {
      if (e.type === "content_block_start") {
        expect(open).toBeNull();
        expect(e.index).toBe(next++);
        open = e.index!;
      } else {
        expect(e.index).toBe(open);
        if (e.type === "content_block_stop") open = null;
      }
    }
    expect(open).toBeNull();
    expect(next).toBe(2);
    expect(events.at(-1)!.type).toBe("message_stop");
    expectOpenAIRequest(true);
  });

  it("plain: two tool_calls become two tool_use blocks", async () => {
    chain.up.once("/oai", behaviour);
    const message = await client().messages.create(params);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toEqual(expected);
    expectOpenAIRequest(false);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Gemini client (functionDeclarations) → Ollama target

describe("Gemini client → Ollama target: function calls", () => {
  const DECLARATION = {
    name: "get_weather",
    description: "Get the current weather for a city",
    parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING, description: "The city name" } }, required: ["city"] },
  };
  const ARGS = { city: "Toronto" };
  const CREATED_AT = "2026-01-02T03:04:05.000000Z";
  const config = { tools: [{ functionDeclarations: [DECLARATION] }] };
  const client = () => new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: chain.url } });

  /** What Ollama must get: the declaration as an Ollama/OpenAI-style function tool, with a JSON Schema. */
  const expectOllamaTools = (body: any) =>
    expect(body.tools).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: DECLARATION.description,
          parameters: { type: "object", properties: { city: { type: "string", description: "The city name" } }, required: ["city"] },
        },
      },
    ]);

  it("streamed: an NDJSON line with message.tool_calls becomes a functionCall part", async () => {
    // Ollama ≥ 0.12 gives each call an id and a function.index ("Streaming with tools").
    const toolLine: StreamStep = {
      json: {
        model: "qwen-target",
        created_at: CREATED_AT,
        message: { role: "assistant", content: "", tool_calls: [{ id: "call_k3l9v2x1", function: { index: 0, name: "get_weather", arguments: ARGS } }] },
        done: false,
      },
    };
    chain.ollama.chatStream = [toolLine, ...textStream("qwen-target", [], { eval_count: 18 })];
    const calls: unknown[] = [];
    let lastFinish: string | undefined;
    for await (const chunk of await client().models.generateContentStream({ model: M.ollama, contents: "What's the weather in Toronto?", config })) {
      calls.push(...(chunk.functionCalls ?? []));
      lastFinish = chunk.candidates?.[0]?.finishReason ?? lastFinish;
    }
    expect(calls).toEqual([{ id: "call_k3l9v2x1", name: "get_weather", args: ARGS }]);
    expect(lastFinish).toBe("STOP");

    const sent = chain.ollama.requests.filter((r) => r.path === "/api/chat");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toMatchObject({ model: "qwen-target", stream: true, messages: [{ role: "user", content: "What's the weather in Toronto?" }] });
    expectOllamaTools(sent[0]!.body);
  });

  it("plain: tool_calls without an id get one; the functionResponse goes back as a tool message", async () => {
    // The form in Ollama's API docs: no id, arguments as an object.
    chain.ollama.chatReply = {
      model: "qwen-target",
      created_at: CREATED_AT,
      message: { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: ARGS } }] },
      done: true,
      done_reason: "stop",
      prompt_eval_count: 120,
      eval_count: 18,
    };
    const c = client();
    const first = await c.models.generateContent({ model: M.ollama, contents: "What's the weather in Toronto?", config });
    const calls = first.functionCalls ?? [];
    expect(calls).toHaveLength(1);
    expect(calls[0]!.name).toBe("get_weather");
    expect(calls[0]!.args).toEqual(ARGS);
    expect(calls[0]!.id).toMatch(/^call_\w+$/);
    expect(first.candidates?.[0]?.finishReason).toBe("STOP");

    chain.ollama.chatReply = { model: "qwen-target", created_at: CREATED_AT, message: { role: "assistant", content: "It is -3 °C in Toronto." }, done: true, done_reason: "stop" };
    const second = await c.models.generateContent({
      model: M.ollama,
      config,
      contents: [
        { role: "user", parts: [{ text: "What's the weather in Toronto?" }] },
        { role: "model", parts: [{ functionCall: calls[0]! }] },
        { role: "user", parts: [{ functionResponse: { id: calls[0]!.id, name: "get_weather", response: { output: "-3 °C, snow" } } }] },
      ],
    });
    expect(second.text).toBe("It is -3 °C in Toronto.");

    const sent = chain.ollama.requests.filter((r) => r.path === "/api/chat").map((r) => r.body as any);
    expect(sent).toHaveLength(2);
    expect(sent[0].stream).toBe(false);
    expectOllamaTools(sent[0]);
    expect(sent[1].messages).toEqual([
      { role: "user", content: "What's the weather in Toronto?" },
      { role: "assistant", content: "", tool_calls: [{ id: calls[0]!.id, function: { name: "get_weather", arguments: ARGS } }] },
      { role: "tool", content: "-3 °C, snow", tool_name: "get_weather", tool_call_id: calls[0]!.id },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Codex-style Responses client with a function tool → Anthropic target

describe("Responses client (Codex-style) → Anthropic target: function_call and function_call_output", () => {
  const EXEC_TOOL = {
    type: "function" as const,
    name: "exec_command",
    description: "Runs a command in a PTY, returning output or a session ID for ongoing interaction.",
    strict: false,
    parameters: {
      type: "object",
      properties: { cmd: { type: "string", description: "Shell command to execute." }, workdir: { type: "string" } },
      required: ["cmd"],
      additionalProperties: false,
    },
  };
  const INSTRUCTIONS = "You are a coding agent running in the Codex CLI.";
  const PROMPT = "List the files in the repository.";
  const TOOL: ToolUse = {
    id: "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
    name: "exec_command",
    // Not under /home: the companion's scrubbing rewrites home directories (a separate concern).
    input: { cmd: "ls -la", workdir: "/srv/payments-service" },
    fragments: ['{"cmd": "ls', ' -la", "workdir": "/srv/', 'payments-service"}'],
  };
  const OUTPUT = "total 8\ndrwxr-xr-x 2 alice alice 4096 Nov 24 09:00 src\n-rw-r--r-- 1 alice alice  120 Nov 24 09:00 package.json";
  const FINAL = "The repository holds src/ and package.json.";

  const userItem = { type: "message" as const, role: "user" as const, content: [{ type: "input_text" as const, text: PROMPT }] };
  const codexParams = (input: OpenAI.Responses.ResponseInputItem[]) => ({
    model: M.anthropic,
    instructions: INSTRUCTIONS,
    input,
    tools: [EXEC_TOOL],
    tool_choice: "auto" as const,
    parallel_tool_calls: true,
    store: false,
    stream: true as const,
    prompt_cache_key: "01a20c53-d347-72b2-a0ae-d0f3dc2b1ea2",
  });

  it("streams a function_call item with the tool_use id as call_id; the output reaches Anthropic as a tool_result", async () => {
    chain.up.once("/ant", plainOrStream(null, anthropicToolFrames("claude-target", null, TOOL)));
    const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const types: string[] = [];
    let argsDone: string | undefined;
    const stream = c.responses.stream(codexParams([userItem]));
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.function_call_arguments.done") argsDone = ev.arguments;
    }
    const first = await stream.finalResponse();
    expect(first.status).toBe("completed");
    expect(first.output).toHaveLength(1);
    const item = first.output[0]!;
    expect(item.type).toBe("function_call");
    if (item.type !== "function_call") throw new Error("not a function call");
    expect(item.call_id).toBe(TOOL.id);
    expect(item.name).toBe("exec_command");
    expect(JSON.parse(item.arguments)).toEqual(TOOL.input);
    expect(JSON.parse(argsDone!)).toEqual(TOOL.input);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.function_call_arguments.delta");

    const [sent] = hitBodies("/ant");
    expect(sent!.stream).toBe(true);
    expect(sent!.system).toEqual([{ type: "text", text: INSTRUCTIONS }]);
    expect(sent!.tools).toEqual([{ name: "exec_command", description: EXEC_TOOL.description, input_schema: EXEC_TOOL.parameters }]);
    expect(sent!.messages).toEqual([{ role: "user", content: [{ type: "text", text: PROMPT }] }]);

    // Codex sends the whole conversation back (store: false), the call and its output included.
    chain.up.once("/ant", plainOrStream(null, anthropicStreamFrames("claude-target", { text: FINAL })));
    const second = await c.responses
      .stream(
        codexParams([
          userItem,
          { type: "function_call", id: item.id, call_id: item.call_id, name: item.name, arguments: item.arguments },
          { type: "function_call_output", call_id: item.call_id, output: OUTPUT },
        ]),
      )
      .finalResponse();
    expect(second.output_text).toBe(FINAL);

    const bodies = hitBodies("/ant");
    expect(bodies).toHaveLength(2);
    expect(bodies[1]!.messages).toEqual([
      { role: "user", content: [{ type: "text", text: PROMPT }] },
      { role: "assistant", content: [{ type: "tool_use", id: TOOL.id, name: "exec_command", input: TOOL.input }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: TOOL.id, content: OUTPUT }] },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Gemini CLI's auto-router call (JSON mode with a schema) → Anthropic and OpenAI targets

describe("Gemini CLI auto-router JSON-mode call", () => {
  const recorded = JSON.parse(readFileSync(new URL("../fixtures/clients/gemini-cli-0.61.0.auto-router-json-mode.generateContent.json", import.meta.url), "utf8")) as {
    path: string;
    headers: Record<string, string>;
    body: { generationConfig: { responseJsonSchema: { required: string[] } } };
  };
  const ANSWER = { complexity_reasoning: "A greeting: trivial, no tools needed.", complexity_score: 3 };
  /** The schema as JSON Schema (Gemini's upper-case type names lower-cased). */
  const SCHEMA = {
    type: "object",
    properties: {
      complexity_reasoning: { type: "string", description: "Brief explanation for the score." },
      complexity_score: { type: "integer", description: "Complexity score from 1-100." },
    },
    required: ["complexity_reasoning", "complexity_score"],
  };

  const send = () => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(recorded.headers)) if (!["host", "connection", "content-length", "accept-encoding"].includes(k)) headers[k] = v;
    headers["x-goog-api-key"] = KEY;
    return fetch(`${chain.url}${recorded.path}`, { method: "POST", headers, body: JSON.stringify(recorded.body) });
  };

  /** The client must get a Gemini answer whose text is the JSON, with every required key. */
  const expectJsonAnswer = async (res: Response) => {
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.candidates).toHaveLength(1);
    expect(body.candidates[0].finishReason).toBe("STOP");
    const parts = body.candidates[0].content.parts as { text?: string; thought?: boolean }[];
    expect(parts.every((p) => typeof p.text === "string" && p.thought !== true)).toBe(true);
    const parsed = JSON.parse(parts.map((p) => p.text).join(""));
    expect(Object.keys(parsed).sort()).toEqual([...recorded.body.generationConfig.responseJsonSchema.required].sort());
    expect(parsed).toEqual(ANSWER);
  };

  it("Anthropic target: gets the forced JSON tool, answers with it, and the client gets JSON text", async () => {
    // The recorded call's own path: the generateContent shape, naming the model routed here.
    expect(recorded.path).toBe(`/v1beta/models/${M.router}:generateContent`);
    chain.up.once(
      "/ant",
      plainOrStream(anthropicToolMessage("claude-router", null, { id: "toolu_01RouterJsonAnswer0001", name: FERRY_JSON_TOOL, input: ANSWER, fragments: [] }), []),
    );
    const res = await send();
    expect(res.headers.get("x-ferry-target")).toBe("edge:anthropic");
    await expectJsonAnswer(res);

    const [sent] = hitBodies("/ant");
    expect(sent!.model).toBe("claude-router");
    expect(sent!.stream).toBeUndefined();
    expect(sent!.tools).toHaveLength(1);
    expect(sent!.tools[0].name).toBe(FERRY_JSON_TOOL);
    expect(sent!.tools[0].input_schema).toEqual(SCHEMA);
    expect(sent!.tool_choice).toEqual({ type: "tool", name: FERRY_JSON_TOOL, disable_parallel_tool_use: true });
    // A forced tool and extended thinking do not go together on Anthropic: thinking stays off.
    expect(sent!.thinking).toBeUndefined();
    expect(res.headers.get("x-ferry-dropped")).toContain("reasoning");
    // The two user turns merge into one (home directories in the first are scrubbed: not checked here).
    expect(sent!.messages).toHaveLength(1);
    expect(sent!.messages[0].role).toBe("user");
    expect(sent!.messages[0].content).toHaveLength(2);
    expect(sent!.messages[0].content[0].text).toMatch(/^<session_context>\nThis is the Gemini CLI\./);
    expect(sent!.messages[0].content[1]).toEqual({ type: "text", text: "say hi" });
    expect(JSON.stringify(sent!.system)).toContain("Complexity Score");
  });

  it("OpenAI target: gets response_format json_schema, answers JSON text, and the client gets it", async () => {
    chain.companion.swap({ ...chain.config, models: { ...chain.config.models, [M.router]: ["edge:openai/gpt-router"] } });
    try {
      chain.up.once("/oai", plainOrStream(openaiChatCompletion("gpt-router", { text: JSON.stringify(ANSWER) }), []));
      const res = await send();
      expect(res.headers.get("x-ferry-target")).toBe("edge:openai");
      await expectJsonAnswer(res);

      const [sent] = hitBodies("/oai");
      expect(sent!.model).toBe("gpt-router");
      expect(sent!.response_format).toEqual({ type: "json_schema", json_schema: { name: "response", schema: SCHEMA } });
      expect(sent!.tools).toBeUndefined();
    } finally {
      chain.companion.swap(chain.config);
    }
  });

  it("Responses target: gets text.format json_schema, answers JSON text, and the client gets it", async () => {
    chain.companion.swap({ ...chain.config, models: { ...chain.config.models, [M.router]: ["edge:responses/gpt-router"] } });
    try {
      chain.up.once("/rsp", async (_req, res, rec) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(openaiResponse(bodyOf(rec), { text: JSON.stringify(ANSWER) })));
      });
      const res = await send();
      expect(res.headers.get("x-ferry-target")).toBe("edge:responses");
      await expectJsonAnswer(res);

      expect(chain.up.hits("/rsp")[0]!.url).toBe("/rsp/v1/responses");
      const [sent] = hitBodies("/rsp");
      expect(sent!.model).toBe("gpt-router");
      expect(sent!.text).toEqual({ format: { type: "json_schema", name: "response", schema: SCHEMA } });
      expect(sent!.tools).toBeUndefined();
    } finally {
      chain.companion.swap(chain.config);
    }
  });

  it("Ollama target: gets the schema as `format`, answers JSON text, and the client gets it", async () => {
    chain.companion.swap({ ...chain.config, models: { ...chain.config.models, [M.router]: ["ollama:qwen-router"] } });
    try {
      chain.ollama.chatReply = { model: "qwen-router", created_at: "2026-01-02T03:04:05.000000Z", message: { role: "assistant", content: JSON.stringify(ANSWER) }, done: true, done_reason: "stop", prompt_eval_count: 50, eval_count: 20 };
      const res = await send();
      expect(res.headers.get("x-ferry-target")).toBe("ollama");
      await expectJsonAnswer(res);

      const sent = chain.ollama.requests.filter((r) => r.path === "/api/chat").map((r) => r.body as Record<string, any>);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.model).toBe("qwen-router");
      expect(sent[0]!.format).toEqual(SCHEMA);
      expect(sent[0]!.tools).toBeUndefined();
    } finally {
      chain.companion.swap(chain.config);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 6. A mid-stream upstream error reaches the client as an error, not a clean end

describe("mid-stream error on an Anthropic target → OpenAI chat client", () => {
  it("the SDK stream throws an APIError after the text that came before it", async () => {
    const frames = anthropicStreamFrames("claude-target", { text: "Partial answer before the failure" });
    // message_start, content_block_start, ping, then two of the text deltas, then the API's error event.
    const cut = frames.slice(0, 5);
    expect(cut.at(-1)).toContain("text_delta");
    chain.up.once("/ant", streamFrames([...cut, ant("error", { error: { type: "overloaded_error", message: "Overloaded" } })]));

    const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const stream = await c.chat.completions.create({ model: M.anthropic, stream: true, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    let finish: string | null = null;
    let caught: unknown;
    try {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(OpenAI.APIError);
    expect((caught as InstanceType<typeof OpenAI.APIError>).message).toContain("Overloaded");
    expect(text).toBe("Partial answer");
    expect(finish).toBeNull();
    expect(chain.up.hits("/ant")).toHaveLength(1);
  });
});
