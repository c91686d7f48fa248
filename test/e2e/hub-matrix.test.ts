/**
 * Tool use through the dialect hub, for every (client dialect) × (target dialect) pair, plain
 * and streamed, end to end: the official SDKs (ollama-js for Ollama's native API) → the
 * companion → the tunnel → the worker in workerd → the stand-in upstreams (or the stand-in
 * Ollama), which answer with tool calls in their own wire shape (test/helpers/tool-answers.ts).
 *
 * Each pair runs the whole tool loop:
 * 1. the client asks a question and declares one function tool, get_weather(location), in its
 *    own dialect; the target must receive that declaration in ITS dialect, and the client must
 *    get back exactly the call the target made (name, arguments, a call id, the dialect's tool
 *    stop signal);
 * 2. the client sends the conversation back with the tool's result in its own dialect; the
 *    target must receive the call and the result in its dialect, linked by the call's id (by
 *    name where the dialect has no id), and the client gets the target's text answer.
 * Five variants per pair: one call plain and streamed; two parallel calls streamed (both must
 * arrive intact and in order, and both results go back linked to the right call); and one call
 * after some text, plain and streamed (the text must reach the client, and go back to the target
 * unchanged as the assistant's text before its call).
 *
 * Same-dialect pairs are passed through untouched (the Ollama client's chat reaches the local
 * Ollama as it came); they are in the matrix all the same.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, Type, type Content, type Part } from "@google/genai";
import { Ollama, type ChatResponse, type Message as OllamaMessage, type Tool as OllamaTool, type ToolCall as OllamaToolCall } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { projectKey, type Chain } from "../helpers/companion.ts";
import { startHubChain } from "../helpers/hub-chain.ts";
import { defaultChatReply, textStream } from "../helpers/ollama.ts";
import { mocks, splitDeltas, streamFrames } from "../helpers/provider-mocks.ts";
import {
  anthropicToolUseFrames,
  anthropicToolUseMessage,
  chatToolCallsCompletion,
  chatToolCallsFrames,
  geminiFunctionCallSseFrames,
  geminiFunctionCalls,
  ollamaToolCallReply,
  ollamaToolCallStream,
  responsesFunctionCallFrames,
  responsesFunctionCalls,
  type AnsweredCall,
} from "../helpers/tool-answers.ts";
import type { Behaviour, Recorded } from "../helpers/upstream.ts";

const KEY = projectKey();
let chain: Chain;

type Dialect = "anthropic" | "openai-chat" | "openai-responses" | "gemini" | "ollama";
const DIALECTS: Dialect[] = ["anthropic", "openai-chat", "openai-responses", "gemini", "ollama"];

const MODELS: Record<Dialect, string> = {
  anthropic: "tm-anthropic",
  "openai-chat": "tm-openai",
  "openai-responses": "tm-responses",
  gemini: "tm-gemini",
  ollama: "tm-ollama",
};

beforeAll(async () => {
  chain = await startHubChain(KEY, MODELS, "matrix");
});

afterAll(async () => {
  await chain?.close();
});

beforeEach(() => {
  chain.up.reset();
  chain.ollama.reset();
});

// ---------------------------------------------------------------------------------------------
// The conversation

const QUESTION = "What's the weather like in Paris?";
const DESCRIPTION = "Get the current weather in a given location";
const LOCATION_DESCRIPTION = "The city, e.g. Paris";
/** The tool's parameters as JSON Schema: what every target must receive (Gemini's upper-case type names lower-cased). */
const SCHEMA = {
  type: "object",
  properties: { location: { type: "string", description: LOCATION_DESCRIPTION } },
  required: ["location"],
};
const FINAL = "It is 18 degrees and sunny in Paris.";
/** What the model may say before its calls. */
const PREAMBLE = "I'll check the current weather in Paris for you.";

interface Wanted {
  name: string;
  args: Record<string, unknown>;
  /** The tool's output the client sends back on the second turn. */
  result: string;
}
const PARIS: Wanted = { name: "get_weather", args: { location: "Paris" }, result: "18 degrees, sunny" };
const BOGOTA: Wanted = { name: "get_weather", args: { location: "Bogotá, Colombia" }, result: "22 degrees, cloudy" };

// ---------------------------------------------------------------------------------------------
// Small readers

type Json = Record<string, any>;
const bodyOf = (rec: Recorded) => JSON.parse(rec.body.toString("utf8")) as Json;

/** Text (of a tool result, an assistant message) however the dialect may carry it: a string, or a list of text parts. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === "object" && typeof p.text === "string" ? p.text : JSON.stringify(p))).join("");
  return JSON.stringify(content);
}

const parseArgs = (text: unknown): unknown => {
  if (typeof text !== "string") return { notJsonText: text };
  try {
    return JSON.parse(text);
  } catch {
    return { unparsable: text };
  }
};

/** Lower-cases Gemini's `type` names ("OBJECT" → "object") anywhere in a schema. */
function lowerTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(lowerTypes);
  if (!schema || typeof schema !== "object") return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === "type" && typeof v === "string" ? v.toLowerCase() : lowerTypes(v)]));
}

let idSeq = 0;
/** A fresh number for the stand-ins' call ids, so no test can pass on another test's ids. */
const nextSeq = () => String(++idSeq).padStart(4, "0");

// ---------------------------------------------------------------------------------------------
// Clients: each asks with the tool declared in its dialect and reads the answer with its SDK

interface ClientCall {
  id: string | undefined;
  name: string;
  args: unknown;
}

interface ToolTurn {
  /** The answer's text (besides the calls). */
  text: string;
  calls: ClientCall[];
  /** Sends the conversation back with one result per call (same order); returns the answer's text. */
  followUp(results: string[]): Promise<string>;
}

type ClientDriver = (model: string, stream: boolean) => Promise<ToolTurn>;

const CLIENTS: Record<Dialect, ClientDriver> = {
  anthropic: async (model, stream) => {
    const c = new Anthropic({ baseURL: chain.url, apiKey: KEY, maxRetries: 0 });
    const tools: Anthropic.Tool[] = [{ name: "get_weather", description: DESCRIPTION, input_schema: SCHEMA as Anthropic.Tool.InputSchema }];
    const ask = (messages: Anthropic.MessageParam[]) => {
      const params = { model, max_tokens: 1024, tools, messages };
      return stream ? c.messages.stream(params).finalMessage() : c.messages.create(params);
    };
    const question: Anthropic.MessageParam = { role: "user", content: QUESTION };
    const first = await ask([question]);
    expect(first.stop_reason).toBe("tool_use");
    const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    return {
      text: first.content.map((b) => (b.type === "text" ? b.text : "")).join(""),
      calls: uses.map((u) => ({ id: u.id, name: u.name, args: u.input })),
      followUp: async (results) => {
        const second = await ask([
          question,
          { role: "assistant", content: first.content },
          { role: "user", content: uses.map((u, i) => ({ type: "tool_result" as const, tool_use_id: u.id, content: results[i]! })) },
        ]);
        expect(second.stop_reason).toBe("end_turn");
        return second.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      },
    };
  },

  "openai-chat": async (model, stream) => {
    const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const tools: OpenAI.Chat.ChatCompletionFunctionTool[] = [{ type: "function", function: { name: "get_weather", description: DESCRIPTION, parameters: SCHEMA } }];
    const ask = (messages: OpenAI.Chat.ChatCompletionMessageParam[]) =>
      stream ? c.chat.completions.stream({ model, messages, tools }).finalChatCompletion() : c.chat.completions.create({ model, messages, tools });
    const question: OpenAI.Chat.ChatCompletionMessageParam = { role: "user", content: QUESTION };
    const first = await ask([question]);
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const toolCalls = choice.message.tool_calls ?? [];
    const calls = toolCalls.map((tc) => {
      if (tc.type !== "function") throw new Error(`not a function call: ${tc.type}`);
      return { id: tc.id, name: tc.function.name, args: parseArgs(tc.function.arguments) };
    });
    return {
      text: choice.message.content ?? "",
      calls,
      followUp: async (results) => {
        const second = await ask([
          question,
          { role: "assistant", content: choice.message.content, tool_calls: toolCalls },
          ...calls.map((call, i) => ({ role: "tool" as const, tool_call_id: call.id, content: results[i]! })),
        ]);
        expect(second.choices[0]!.finish_reason).toBe("stop");
        return second.choices[0]!.message.content ?? "";
      },
    };
  },

  "openai-responses": async (model, stream) => {
    const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const tools: OpenAI.Responses.FunctionTool[] = [{ type: "function", name: "get_weather", description: DESCRIPTION, parameters: SCHEMA, strict: false }];
    /**
     * Streamed, the events must agree with the final response (which the SDK takes whole from
     * response.completed): clients such as Codex build their items from the events instead.
     */
    const ask = async (input: OpenAI.Responses.ResponseInputItem[]) => {
      if (!stream) return c.responses.create({ model, input, tools });
      const s = c.responses.stream({ model, input, tools });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const ev of s) events.push(ev);
      const final = await s.finalResponse();
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      expect(events[0]!.type).toBe("response.created");
      expect(events.at(-1)!.type).toBe("response.completed");
      final.output.forEach((item, outputIndex) => {
        const at = events.filter((e) => "output_index" in e && e.output_index === outputIndex);
        if (item.type === "message") {
          const text = item.content.map((p) => (p.type === "output_text" ? p.text : "")).join("");
          expect(at.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : [])).join("")).toBe(text);
          return;
        }
        if (item.type !== "function_call") return;
        const added = at.find((e) => e.type === "response.output_item.added");
        expect(added?.type === "response.output_item.added" && added.item).toMatchObject({ type: "function_call", call_id: item.call_id, name: item.name });
        const deltas = at.flatMap((e) => (e.type === "response.function_call_arguments.delta" ? [e.delta] : []));
        expect(deltas.join("")).toBe(item.arguments);
        const argsDone = at.find((e) => e.type === "response.function_call_arguments.done");
        expect(argsDone?.type === "response.function_call_arguments.done" && argsDone.arguments).toBe(item.arguments);
        const done = at.find((e) => e.type === "response.output_item.done");
        // (The SDK adds parsed_arguments to the final items; the wire fields must match.)
        const { type, id, call_id, name, arguments: args, status } = item;
        expect(done?.type === "response.output_item.done" && done.item).toEqual({ type, id, call_id, name, arguments: args, status });
      });
      return final;
    };
    const question: OpenAI.Responses.ResponseInputItem = { role: "user", content: QUESTION };
    const first = await ask([question]);
    expect(first.status).toBe("completed");
    const items = first.output.flatMap((i) => (i.type === "function_call" ? [i] : []));
    for (const item of items) expect(item.status).toBe("completed");
    // Sent back as they came (store: false style): the answer's items in order, then the outputs.
    const replay = first.output.flatMap((i): OpenAI.Responses.ResponseInputItem[] => {
      if (i.type === "function_call") return [{ type: "function_call", ...(i.id ? { id: i.id } : {}), call_id: i.call_id, name: i.name, arguments: i.arguments }];
      if (i.type === "message") {
        const content = i.content.flatMap((p) => (p.type === "output_text" ? [{ type: "output_text" as const, text: p.text, annotations: [] }] : []));
        return [{ type: "message", id: i.id, role: "assistant", status: "completed", content }];
      }
      throw new Error(`unexpected output item ${i.type}`);
    });
    return {
      text: first.output_text,
      calls: items.map((i) => ({ id: i.call_id, name: i.name, args: parseArgs(i.arguments) })),
      followUp: async (results) => {
        const second = await ask([
          question,
          ...replay,
          ...items.map((i, n) => ({ type: "function_call_output" as const, call_id: i.call_id, output: results[n]! })),
        ]);
        expect(second.status).toBe("completed");
        return second.output_text;
      },
    };
  },

  gemini: async (model, stream) => {
    const c = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: chain.url } });
    const config = {
      tools: [
        {
          functionDeclarations: [
            {
              name: "get_weather",
              description: DESCRIPTION,
              parameters: { type: Type.OBJECT, properties: { location: { type: Type.STRING, description: LOCATION_DESCRIPTION } }, required: ["location"] },
            },
          ],
        },
      ],
    };
    /** The answer's parts (all chunks' parts, in order, when streamed) and its last finishReason. */
    const ask = async (contents: Content[]): Promise<{ parts: Part[]; finish: string | undefined }> => {
      if (!stream) {
        const r = await c.models.generateContent({ model, contents, config });
        return { parts: r.candidates?.[0]?.content?.parts ?? [], finish: r.candidates?.[0]?.finishReason };
      }
      const parts: Part[] = [];
      let finish: string | undefined;
      for await (const chunk of await c.models.generateContentStream({ model, contents, config })) {
        parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []));
        finish = chunk.candidates?.[0]?.finishReason ?? finish;
      }
      return { parts, finish };
    };
    const question: Content = { role: "user", parts: [{ text: QUESTION }] };
    const first = await ask([question]);
    expect(first.finish).toBe("STOP");
    const fcs = first.parts.flatMap((p) => (p.functionCall ? [p.functionCall] : []));
    expect(fcs.length).toBeGreaterThan(0); // functionCalls present
    const textOfParts = (parts: Part[]) => parts.map((p) => (typeof p.text === "string" && !p.thought ? p.text : "")).join("");
    return {
      text: textOfParts(first.parts),
      calls: fcs.map((fc) => ({ id: fc.id, name: fc.name ?? "", args: fc.args })),
      followUp: async (results) => {
        const second = await ask([
          question,
          { role: "model", parts: first.parts },
          { role: "user", parts: fcs.map((fc, i) => ({ functionResponse: { ...(fc.id ? { id: fc.id } : {}), name: fc.name, response: { output: results[i]! } } })) },
        ]);
        expect(second.finish).toBe("STOP");
        return textOfParts(second.parts);
      },
    };
  },

  ollama: async (model, stream) => {
    const c = new Ollama({ host: chain.url, headers: { authorization: `Bearer ${KEY}` } });
    const tools: OllamaTool[] = [{ type: "function", function: { name: "get_weather", description: DESCRIPTION, parameters: SCHEMA as OllamaTool["function"]["parameters"] } }];
    /** The answer's message (streamed: contents joined, tool calls gathered from every part). */
    const ask = async (messages: OllamaMessage[]): Promise<{ content: string; tool_calls: OllamaToolCall[] }> => {
      const parts: ChatResponse[] = [];
      if (stream) for await (const part of await c.chat({ model, stream: true, messages, tools })) parts.push(part);
      else parts.push(await c.chat({ model, stream: false, messages, tools }));
      const last = parts.at(-1)!;
      expect(last.done).toBe(true);
      expect(last.done_reason).toBe("stop");
      expect(parts.slice(0, -1).every((p) => p.done === false)).toBe(true);
      return { content: parts.map((p) => p.message.content).join(""), tool_calls: parts.flatMap((p) => p.message.tool_calls ?? []) };
    };
    const question: OllamaMessage = { role: "user", content: QUESTION };
    const first = await ask([question]);
    expect(first.tool_calls.length).toBeGreaterThan(0); // message.tool_calls
    const calls = first.tool_calls.map((tc) => ({ id: (tc as { id?: string }).id, name: tc.function.name, args: tc.function.arguments as unknown }));
    return {
      text: first.content,
      calls,
      followUp: async (results) => {
        const second = await ask([
          question,
          { role: "assistant", content: first.content, tool_calls: first.tool_calls },
          ...calls.map((call, i) => ({ role: "tool", content: results[i]!, tool_name: call.name, ...(call.id ? { tool_call_id: call.id } : {}) })),
        ]);
        expect(second.tool_calls).toEqual([]);
        return second.content;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Targets: each answers in its wire shape and reads back what it received, in its dialect

interface ReceivedTool {
  name: unknown;
  description: unknown;
  parameters: unknown;
}

/** The assistant's text, tool calls and results found in a request's conversation, in the order they appear. */
interface Conversation {
  assistantText: string;
  calls: { id: unknown; name: unknown; args: unknown }[];
  results: { id: unknown; name?: unknown; text: string }[];
  /** "text" once per run of assistant text. */
  sequence: ("text" | "call" | "result")[];
}

interface Target {
  /** Queues the next answer: `text` (when given), then these tool calls. Returns the calls with the ids this provider gave them. */
  answerCalls(wanted: Wanted[], stream: boolean, text?: string): AnsweredCall[];
  /** Queues the next answer: the text FINAL. */
  answerText(): void;
  /** Requests received so far: body, and whether the target was asked to stream. */
  received(): { url: string; body: Json; streamed: boolean }[];
  /** Where the requests must go. */
  url: RegExp;
  /** The tool declarations, read the way this dialect carries them. */
  tools(body: Json): ReceivedTool[];
  conversation(body: Json): Conversation;
  /** The dialect links results to calls by id (else by name, with the id optional). */
  idsRequired: boolean;
  /** What this dialect does to a foreign id on the way in (Anthropic: characters outside [a-zA-Z0-9_-] become "_"). */
  wireId(id: string): string;
  /** Things in a request the real API refuses (each a short description); none expected. */
  lint?(body: Json): string[];
}

const fromUpstream = (prefix: string, streamed: (rec: Recorded, body: Json) => boolean) => () =>
  chain.up.hits(prefix).map((rec) => {
    const body = bodyOf(rec);
    return { url: rec.url, body, streamed: streamed(rec, body) };
  });

const byStreamFlag = (plain: (body: Json) => unknown, frames: (body: Json) => string[]): Behaviour => {
  return async (req, res, rec) => {
    const body = bodyOf(rec);
    if (body.stream === true) return streamFrames(frames(body))(req, res, rec);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(plain(body)));
  };
};

const newConversation = (): Conversation => ({ assistantText: "", calls: [], results: [], sequence: [] });
const addText = (c: Conversation, text: unknown) => {
  const t = text === null || text === undefined ? "" : textOf(text);
  if (t === "") return;
  c.assistantText += t;
  if (c.sequence.at(-1) !== "text") c.sequence.push("text");
};
const addCall = (c: Conversation, call: Conversation["calls"][number]) => {
  c.calls.push(call);
  c.sequence.push("call");
};
const addResult = (c: Conversation, result: Conversation["results"][number]) => {
  c.results.push(result);
  c.sequence.push("result");
};

const TARGETS: Record<Dialect, Target> = {
  anthropic: {
    answerCalls(wanted, _stream, text) {
      const calls = wanted.map((w) => ({ id: `toolu_01Mtx${nextSeq()}A9q90qw90lq917835`, name: w.name, args: w.args }));
      chain.up.once(
        "/ant",
        byStreamFlag(
          (b) => anthropicToolUseMessage(b.model, calls, text),
          (b) => anthropicToolUseFrames(b.model, calls, text),
        ),
      );
      return calls;
    },
    answerText: () => chain.up.once("/ant", mocks.anthropicMessages({ text: FINAL })),
    received: fromUpstream("/ant", (_r, b) => b.stream === true),
    url: /^\/ant\/v1\/messages$/,
    tools: (body) => (body.tools ?? []).map((t: Json) => ({ name: t.name, description: t.description, parameters: t.input_schema })),
    conversation(body) {
      const c = newConversation();
      for (const m of body.messages ?? []) {
        for (const b of Array.isArray(m.content) ? m.content : []) {
          if (m.role === "assistant" && b.type === "text") addText(c, b.text);
          if (m.role === "assistant" && b.type === "tool_use") addCall(c, { id: b.id, name: b.name, args: b.input });
          if (m.role === "user" && b.type === "tool_result") addResult(c, { id: b.tool_use_id, text: textOf(b.content) });
        }
      }
      return c;
    },
    idsRequired: true,
    wireId: (id) => id.replace(/[^a-zA-Z0-9_-]/g, "_"),
    // The Messages API: "messages: text content blocks must be non-empty", and every message needs content.
    lint: (body) =>
      (body.messages ?? []).flatMap((m: Json, i: number) => [
        ...((typeof m.content === "string" ? m.content === "" : !Array.isArray(m.content) || m.content.length === 0) ? [`messages[${i}] has no content`] : []),
        ...(Array.isArray(m.content) ? m.content : []).flatMap((b: Json, j: number) => (b.type === "text" && !b.text ? [`messages[${i}].content[${j}] is an empty text block`] : [])),
      ]),
  },

  "openai-chat": {
    answerCalls(wanted, _stream, text) {
      const calls = wanted.map((w) => ({ id: `call_Mtx${nextSeq()}GzAIMAbqJ2Ivlbqp7`, name: w.name, args: w.args }));
      chain.up.once(
        "/oai",
        byStreamFlag(
          (b) => chatToolCallsCompletion(b.model, calls, text),
          (b) => chatToolCallsFrames(b.model, calls, b.stream_options?.include_usage === true, text),
        ),
      );
      return calls;
    },
    answerText: () => chain.up.once("/oai", mocks.openai({ text: FINAL })),
    received: fromUpstream("/oai", (_r, b) => b.stream === true),
    url: /^\/oai\/v1\/chat\/completions$/,
    tools: (body) =>
      (body.tools ?? []).map((t: Json) => ({ name: t.type === "function" ? t.function?.name : `<${t.type}>`, description: t.function?.description, parameters: t.function?.parameters })),
    conversation(body) {
      const c = newConversation();
      for (const m of body.messages ?? []) {
        if (m.role === "assistant") addText(c, m.content);
        if (m.role === "assistant") for (const tc of m.tool_calls ?? []) addCall(c, { id: tc.id, name: tc.function?.name, args: parseArgs(tc.function?.arguments) });
        if (m.role === "tool") addResult(c, { id: m.tool_call_id, text: textOf(m.content) });
      }
      return c;
    },
    idsRequired: true,
    wireId: (id) => id,
  },

  "openai-responses": {
    answerCalls(wanted, _stream, text) {
      const calls = wanted.map((w) => ({ id: `call_Mtx${nextSeq()}PfPL3jH6mEqbl5zc`, name: w.name, args: w.args }));
      chain.up.once(
        "/rsp",
        byStreamFlag(
          (b) => responsesFunctionCalls(b, calls, text),
          (b) => responsesFunctionCallFrames(b, calls, text),
        ),
      );
      return calls;
    },
    answerText: () => chain.up.once("/rsp", mocks.openai({ text: FINAL })),
    received: fromUpstream("/rsp", (_r, b) => b.stream === true),
    url: /^\/rsp\/v1\/responses$/,
    tools: (body) => (body.tools ?? []).map((t: Json) => ({ name: t.type === "function" ? t.name : `<${t.type}>`, description: t.description, parameters: t.parameters })),
    conversation(body) {
      const c = newConversation();
      for (const item of Array.isArray(body.input) ? body.input : []) {
        if ((item.type === "message" || item.type === undefined) && item.role === "assistant") addText(c, item.content);
        if (item.type === "function_call") addCall(c, { id: item.call_id, name: item.name, args: parseArgs(item.arguments) });
        if (item.type === "function_call_output") addResult(c, { id: item.call_id, text: textOf(item.output) });
      }
      return c;
    },
    idsRequired: true,
    wireId: (id) => id,
  },

  gemini: {
    answerCalls(wanted, _stream, text) {
      const calls = wanted.map((w) => ({ name: w.name, args: w.args }));
      chain.up.once("/gem", async (req, res, rec) => {
        const url = new URL(rec.url, "http://stand-in");
        if (url.pathname.endsWith(":generateContent")) {
          res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
          return void res.end(JSON.stringify(geminiFunctionCalls("gemini-target", calls, text), null, 2));
        }
        if (url.pathname.endsWith(":streamGenerateContent") && url.searchParams.get("alt") === "sse") {
          return streamFrames(geminiFunctionCallSseFrames("gemini-target", calls, text), { contentType: "text/event-stream" })(req, res, rec);
        }
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: 400, message: `the stand-in does not answer ${rec.url}`, status: "INVALID_ARGUMENT" } }));
      });
      return calls;
    },
    answerText: () => chain.up.once("/gem", mocks.geminiGenerate({ text: FINAL })),
    received: fromUpstream("/gem", (r) => r.url.includes(":streamGenerateContent")),
    url: /^\/gem\/v1beta\/models\/gemini-target:(generateContent|streamGenerateContent\?alt=sse)$/,
    tools: (body) =>
      (body.tools ?? []).flatMap((t: Json) =>
        (t.functionDeclarations ?? []).map((d: Json) => ({ name: d.name, description: d.description, parameters: lowerTypes(d.parametersJsonSchema ?? d.parameters) })),
      ),
    conversation(body) {
      const c = newConversation();
      for (const content of body.contents ?? []) {
        for (const p of content.parts ?? []) {
          if (content.role === "model" && typeof p.text === "string" && !p.thought) addText(c, p.text);
          if (content.role === "model" && p.functionCall) addCall(c, { id: p.functionCall.id, name: p.functionCall.name, args: p.functionCall.args });
          if (content.role === "user" && p.functionResponse) {
            const r = p.functionResponse.response;
            // Google's docs: the function's output goes under "output" (errors under "error").
            addResult(c, { id: p.functionResponse.id, name: p.functionResponse.name, text: typeof r?.output === "string" ? r.output : JSON.stringify(r) });
          }
        }
      }
      return c;
    },
    idsRequired: false,
    wireId: (id) => id,
    // generateContent refuses contents without parts and empty text parts ("empty text parameter").
    lint: (body) =>
      (body.contents ?? []).flatMap((c: Json, i: number) => [
        ...(!Array.isArray(c.parts) || c.parts.length === 0 ? [`contents[${i}] has no parts`] : []),
        ...(Array.isArray(c.parts) ? c.parts : []).flatMap((p: Json, j: number) => (p.text === "" ? [`contents[${i}].parts[${j}] is an empty text part`] : [])),
        ...(c.role === "user" || c.role === "model" ? [] : [`contents[${i}].role is ${JSON.stringify(c.role)}`]),
      ]),
  },

  ollama: {
    answerCalls(wanted, stream, text) {
      // The whole answer has no ids (API docs); the stream's lines have them (Ollama ≥ 0.12).
      const calls = wanted.map((w) => ({ ...(stream ? { id: `call_mtx${nextSeq()}l9v2` } : {}), name: w.name, args: w.args }));
      chain.ollama.chatReply = ollamaToolCallReply("qwen-target", calls, text);
      // The other mode's answer is set too (with ids no check expects), so a request in the wrong mode fails on the mode check, not here.
      chain.ollama.chatStream = ollamaToolCallStream("qwen-target", stream ? calls : calls.map((c, i) => ({ ...c, id: `call_wrongmode${i}` })), text);
      return calls;
    },
    answerText() {
      chain.ollama.chatReply = { ...defaultChatReply("qwen-target"), message: { role: "assistant", content: FINAL } };
      chain.ollama.chatStream = textStream("qwen-target", splitDeltas(FINAL));
    },
    received: () =>
      chain.ollama.requests
        .filter((r) => r.path === "/api/chat")
        .map((r) => ({ url: r.path, body: r.body as Json, streamed: (r.body as Json).stream !== false })),
    url: /^\/api\/chat$/,
    tools: (body) => (body.tools ?? []).map((t: Json) => ({ name: t.type === "function" ? t.function?.name : `<${t.type}>`, description: t.function?.description, parameters: t.function?.parameters })),
    conversation(body) {
      const c = newConversation();
      for (const m of body.messages ?? []) {
        if (m.role === "assistant") addText(c, m.content);
        if (m.role === "assistant") for (const tc of m.tool_calls ?? []) addCall(c, { id: tc.id, name: tc.function?.name, args: tc.function?.arguments });
        if (m.role === "tool") addResult(c, { id: m.tool_call_id, name: m.tool_name, text: textOf(m.content) });
      }
      return c;
    },
    idsRequired: false,
    wireId: (id) => id,
  },
};

// ---------------------------------------------------------------------------------------------
// The loop, and what each side must see

async function toolLoop(clientName: Dialect, targetName: Dialect, stream: boolean, wanted: Wanted[], preamble?: string) {
  const client = CLIENTS[clientName];
  const target = TARGETS[targetName];
  // Same-dialect targets get the request as it came and answer the client untouched.
  const passthrough = clientName === targetName;

  // Turn 1: the question and the tool; the target calls it.
  const answered = target.answerCalls(wanted, stream, preamble);
  const turn = await client(MODELS[targetName], stream);

  // What the target got: the tool in its dialect, the question, the mode the client asked for.
  const [first, ...more] = target.received();
  expect(more).toHaveLength(0);
  expect(first!.url).toMatch(target.url);
  expect(first!.streamed).toBe(stream);
  expect(target.tools(first!.body)).toEqual([{ name: "get_weather", description: DESCRIPTION, parameters: SCHEMA }]);
  expect(JSON.stringify(first!.body)).toContain(QUESTION);
  expect(target.conversation(first!.body).sequence).toEqual([]);
  expect(target.lint?.(first!.body) ?? []).toEqual([]);

  // What the client got: the text said before the calls (if any), exactly the calls made, in order, each with an id.
  expect(turn.text).toBe(preamble ?? "");
  expect(turn.calls.map((c) => ({ name: c.name, args: c.args }))).toEqual(wanted.map((w) => ({ name: w.name, args: w.args })));
  turn.calls.forEach((call, i) => {
    const given = answered[i]!.id;
    // Passed through untouched: the id is the target's own, or none where its answer gave none (Gemini, Ollama).
    // Translated: an id always, made up by the hub where the target gave none (Gemini; Ollama's whole answer).
    if (passthrough) expect(call.id).toBe(given);
    else expect(call.id).toMatch(/^\S+$/);
  });
  if (turn.calls.every((c) => c.id !== undefined)) expect(new Set(turn.calls.map((c) => c.id)).size).toBe(turn.calls.length);

  // Turn 2: the results go back; the target answers with text.
  target.answerText();
  const text = await turn.followUp(wanted.map((w) => w.result));
  expect(text).toBe(FINAL);

  const received = target.received();
  expect(received).toHaveLength(2);
  const second = received[1]!;
  expect(second.url).toMatch(target.url);
  expect(second.streamed).toBe(stream);
  expect(target.tools(second.body)).toEqual([{ name: "get_weather", description: DESCRIPTION, parameters: SCHEMA }]);
  expect(target.lint?.(second.body) ?? []).toEqual([]);
  const conv = target.conversation(second.body);
  // The assistant's turn (its text, then the calls), then the results, in the same order.
  expect(conv.sequence).toEqual([...(preamble ? ["text"] : []), ...wanted.map(() => "call"), ...wanted.map(() => "result")]);
  expect(conv.assistantText).toBe(preamble ?? "");
  wanted.forEach((w, i) => {
    const call = conv.calls[i]!;
    const result = conv.results[i]!;
    expect({ name: call.name, args: call.args }).toEqual({ name: w.name, args: w.args });
    expect(result.text).toBe(w.result);
    // The id that links them: the target's own where it gave one, else the one the client saw.
    const link = answered[i]!.id ?? turn.calls[i]!.id;
    const expected = link === undefined ? undefined : target.wireId(link);
    if (target.idsRequired || call.id !== undefined || expected !== undefined) expect(call.id).toBe(expected);
    if (target.idsRequired || result.id !== undefined || expected !== undefined) expect(result.id).toBe(expected);
    // Dialects without required ids link by name.
    if (!target.idsRequired) expect(result.name).toBe(w.name);
  });
}

describe.each(DIALECTS)("%s client", (clientName) => {
  describe.each(DIALECTS)("← %s target", (targetName) => {
    it("plain: one tool call, then its result and the text answer", async () => {
      await toolLoop(clientName, targetName, false, [PARIS]);
    });
    it("streamed: one tool call, then its result and the text answer", async () => {
      await toolLoop(clientName, targetName, true, [PARIS]);
    });
    it("streamed: two parallel tool calls arrive intact and in order, and both results go back", async () => {
      await toolLoop(clientName, targetName, true, [PARIS, BOGOTA]);
    });
    it("plain: text before the tool call; both go back on the next turn", async () => {
      await toolLoop(clientName, targetName, false, [PARIS], PREAMBLE);
    });
    it("streamed: text before the tool call; both go back on the next turn", async () => {
      await toolLoop(clientName, targetName, true, [PARIS], PREAMBLE);
    });
  });
});
