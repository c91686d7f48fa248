/**
 * Responses API request (what Codex CLI and the openai SDK send to POST /v1/responses) → IR.
 * Field names: openai-node 7.x `ResponseCreateParamsBase`; input items: `ResponseInputItem`.
 *
 * Decisions:
 * - `instructions` and the system/developer messages before the first user/assistant item
 *   become the IR system prompt (Codex sends its prompt as leading `developer` messages).
 *   A later system/developer message becomes user text, recorded as a drop: the IR has one
 *   system prompt, and hoisting a mid-conversation message would move it in the prefix.
 * - `previous_response_id`, `conversation`, `prompt` and `item_reference` name state stored on
 *   OpenAI's servers, which another target cannot load: refused as `unsupported` rather than
 *   answered without the conversation. `background: true` (answer later, poll) likewise.
 * - Hosted tools (web_search, local_shell, custom, namespace, …) and their items are dropped.
 *   `namespace` groups function tools, but the IR's tools are flat and an answer carries no
 *   namespace, so a namespaced call could not be routed back to the client: dropped too.
 * - Item ids (`msg_…`, `fc_…`, `rs_…`) are OpenAI's storage handles and carry no content:
 *   they are not read. A reasoning item's `encrypted_content` is (reasoning-state.ts).
 */
import { err, ok, type Result } from "../../../shared/result.ts";
import type { HubError } from "../codec.ts";
import type { IrMessage, IrPart, IrRequest, IrResponseFormat, IrRole, IrToolChoice, IrToolResultContent } from "../ir.ts";
import { readState } from "./reasoning-state.ts";
import { decodeContent } from "./input-content.ts";
import { decodeReasoning, decodeTextFormat, decodeToolChoice, decodeTools } from "./request-options.ts";
import { arr, Drops, isObj, num, Refusal, sourceFromUrl, str, type Json } from "./wire.ts";

/** Top-level fields read here; every other present field is recorded as a drop. */
const HANDLED = new Set(["model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens", "temperature", "top_p", "text", "reasoning", "stream", "store", "include", "background"]);

const REFUSED: Record<string, string> = {
  previous_response_id: "previous_response_id refers to a conversation stored by OpenAI, which another target cannot load; send the whole conversation in `input` (store: false)",
  conversation: "conversation refers to a conversation stored by OpenAI, which another target cannot load; send the whole conversation in `input`",
  prompt: "prompt refers to a prompt template stored by OpenAI, which another target cannot load; send the instructions in `instructions`",
};

const DROP_REASONS: Record<string, string> = {
  prompt_cache_key: "the IR has no cache key; other targets cache by prefix",
  prompt_cache_retention: "prompt cache lifetimes are OpenAI's",
  prompt_cache_options: "prompt cache options are OpenAI's",
  client_metadata: "client metadata (session and installation ids) is not forwarded",
  metadata: "response metadata is stored by OpenAI only; nothing is stored here",
  truncation: "the IR has no truncation strategy; the target rejects an over-long input instead",
  service_tier: "service tiers are OpenAI's",
  user: "end-user ids are not forwarded",
  safety_identifier: "end-user ids are not forwarded",
  top_logprobs: "the IR carries no log probabilities",
  max_tool_calls: "the limit applies to hosted tools, which are dropped",
  stream_options: "stream obfuscation is not produced",
  context_management: "server-side compaction is OpenAI's",
  moderation: "moderation runs on OpenAI's side",
  access_programs: "access programs are OpenAI's",
  image: "image context options are OpenAI's",
};

export function decodeRequest(body: unknown, opts: { model?: string; stream?: boolean }): Result<IrRequest, HubError> {
  try {
    return ok(decode(body, opts));
  } catch (e) {
    if (e instanceof Refusal) return err({ code: e.code, message: e.message });
    return err({ code: "bad_request", message: `unreadable Responses request: ${(e as Error).message}` });
  }
}

function bad(message: string): Refusal {
  return new Refusal("bad_request", message);
}

function decode(body: unknown, opts: { model?: string; stream?: boolean }): IrRequest {
  if (!isObj(body)) throw bad("the request body must be a JSON object");
  const drops = new Drops();
  for (const [key, reason] of Object.entries(REFUSED)) {
    if (body[key] !== undefined && body[key] !== null) throw new Refusal("unsupported", reason);
  }
  if (body.background === true) throw new Refusal("unsupported", "background responses (answer later, poll by id) need OpenAI's storage; send the request without background");
  for (const key of Object.keys(body)) {
    if (HANDLED.has(key) || key in REFUSED || body[key] === undefined || body[key] === null) continue;
    drops.add(`request.${key}`, DROP_REASONS[key] ?? "not part of the IR");
  }
  if (body.store === true) drops.add("request.store", "responses are not stored for later retrieval");
  const include = arr(body.include) ?? [];
  for (const value of include) {
    // reasoning.encrypted_content is honoured: opaque reasoning state always comes back.
    if (value !== "reasoning.encrypted_content") drops.add(`request.include.${String(value)}`, "the IR carries no such output data");
  }

  const model = opts.model ?? str(body.model);
  if (!model) throw bad("`model` is required");
  const conversation = new Conversation(drops);
  const instructions = body.instructions;
  if (typeof instructions === "string") {
    if (instructions !== "") conversation.system.push({ text: instructions });
  } else if (instructions !== undefined && instructions !== null) {
    throw bad("`instructions` must be a string");
  }
  const input = body.input;
  if (typeof input === "string") conversation.add("user", { type: "text", text: input });
  else if (Array.isArray(input)) conversation.items(input);
  else throw bad("`input` must be a string or an array of items");

  const ir: IrRequest = {
    model,
    system: conversation.system,
    messages: conversation.messages,
    tools: decodeTools(body.tools, drops),
    stream: opts.stream ?? body.stream === true,
    dropped: drops.list,
  };
  const choice: IrToolChoice | undefined = decodeToolChoice(body.tool_choice, drops);
  if (choice) ir.toolChoice = choice;
  if (typeof body.parallel_tool_calls === "boolean") ir.parallelToolCalls = body.parallel_tool_calls;
  const maxTokens = numberField(body, "max_output_tokens");
  if (maxTokens !== undefined) ir.maxOutputTokens = maxTokens;
  const temperature = numberField(body, "temperature");
  if (temperature !== undefined) ir.temperature = temperature;
  const topP = numberField(body, "top_p");
  if (topP !== undefined) ir.topP = topP;
  const format: IrResponseFormat | undefined = decodeTextFormat(body.text, drops);
  if (format) ir.responseFormat = format;
  const reasoning = decodeReasoning(body.reasoning, drops);
  if (reasoning) ir.reasoning = reasoning;
  return ir;
}

function numberField(body: Json, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const n = num(v);
  if (n === undefined) throw bad(`\`${key}\` must be a number`);
  return n;
}

/** Builds the IR conversation from input items, merging consecutive items of one role. */
class Conversation {
  readonly system: IrRequest["system"] = [];
  readonly messages: IrMessage[] = [];
  readonly #drops: Drops;
  /** call_id → function name, so tool results can name their function (Gemini needs it). */
  readonly #callNames = new Map<string, string>();
  /** Gemini thought signature for the function call that follows (see reasoning-state.ts). */
  #callThought: string | undefined;

  constructor(drops: Drops) {
    this.#drops = drops;
  }

  add(role: IrRole, part: IrPart): void {
    const last = this.messages.at(-1);
    if (last?.role === role) last.content.push(part);
    else this.messages.push({ role, content: [part] });
  }

  items(items: unknown[]): void {
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (!isObj(item)) throw bad(`input[${i}] must be an object`);
      const type = item.type ?? "message";
      if (type !== "reasoning" && type !== "function_call") this.#flushCallThought();
      switch (type) {
        case "message":
          this.#message(item, i);
          break;
        case "function_call":
          this.#functionCall(item, i);
          break;
        case "function_call_output":
          this.#functionCallOutput(item, i);
          break;
        case "reasoning":
          this.#reasoning(item, isObj(items[i + 1]) && (items[i + 1] as Json).type === "function_call");
          break;
        case "item_reference":
          throw new Refusal("unsupported", "item_reference refers to an item stored by OpenAI, which another target cannot load; send the item itself");
        default:
          this.#drops.add(`item.${String(type)}`, "a hosted-tool or OpenAI-internal item; the IR has no such item and its tool is not offered to other targets");
      }
    }
    this.#flushCallThought();
  }

  #message(item: Json, i: number): void {
    const role = item.role;
    if (role !== "user" && role !== "assistant" && role !== "system" && role !== "developer") throw bad(`input[${i}].role must be user, assistant, system or developer`);
    if (item.phase !== undefined && item.phase !== null) this.#drops.add("message.phase", "the IR has no commentary/final-answer label");
    const parts = decodeContent(item.content, `input[${i}]`, this.#drops);
    if (role === "system" || role === "developer") {
      if (this.messages.length === 0) {
        for (const part of parts) {
          if (part.type === "text") this.system.push(part.cacheControl ? { text: part.text, cacheControl: part.cacheControl } : { text: part.text });
          else this.#drops.add(`system.${part.type}`, "the IR's system prompt holds only text");
        }
        return;
      }
      this.#drops.add(`message.${role}`, "a system/developer message after the conversation started is sent as user text; the IR has one leading system prompt");
      for (const part of parts) this.add("user", part);
      return;
    }
    for (const part of parts) this.add(role, part);
  }

  #functionCall(item: Json, i: number): void {
    const id = str(item.call_id);
    const name = str(item.name);
    if (!id || !name) throw bad(`input[${i}]: a function_call needs call_id and name`);
    const args = typeof item.arguments === "string" ? item.arguments : item.arguments === undefined ? "" : JSON.stringify(item.arguments);
    if (item.namespace !== undefined && item.namespace !== null) this.#drops.add("item.function_call.namespace", "the IR has no tool namespaces; the call keeps its bare name");
    this.#callNames.set(id, name);
    const part: IrPart = { type: "tool_call", id, name, arguments: args };
    if (this.#callThought !== undefined) {
      part.thoughtSignature = this.#callThought;
      this.#callThought = undefined;
    }
    this.add("assistant", part);
  }

  #functionCallOutput(item: Json, i: number): void {
    const id = str(item.call_id);
    if (!id) throw bad(`input[${i}]: a function_call_output needs call_id`);
    const content: IrToolResultContent[] = [];
    if (typeof item.output === "string") content.push({ type: "text", text: item.output });
    else {
      const list = arr(item.output);
      if (!list) throw bad(`input[${i}].output must be a string or an array of parts`);
      for (const p of list) {
        if (!isObj(p)) throw bad(`input[${i}].output has a part that is not an object`);
        if (p.type === "input_text") content.push({ type: "text", text: str(p.text) ?? "" });
        else if (p.type === "input_image" && str(p.image_url)) content.push({ type: "image", source: sourceFromUrl(p.image_url as string) });
        else this.#drops.add(`tool_result.${String(p.type)}`, "tool results in the IR hold only text and images");
      }
    }
    const name = this.#callNames.get(id);
    this.add("user", name ? { type: "tool_result", toolCallId: id, name, content } : { type: "tool_result", toolCallId: id, content });
  }

  #reasoning(item: Json, beforeCall: boolean): void {
    const summary = (arr(item.summary) ?? []).filter(isObj).map((s) => str(s.text) ?? "");
    const raw = (arr(item.content) ?? []).filter(isObj).map((s) => str(s.text) ?? "");
    const summaryText = summary.join("\n\n");
    const rawText = raw.join("\n\n");
    if (summaryText !== "" && rawText !== "") this.#drops.add("item.reasoning.content", "the IR holds one reasoning text; the summary is kept");
    const text = summaryText !== "" ? summaryText : rawText;
    const encrypted = str(item.encrypted_content);
    if (encrypted === undefined) {
      this.add("assistant", { type: "reasoning", text });
      return;
    }
    const state = readState(encrypted);
    switch (state.kind) {
      case "signature":
        this.add("assistant", { type: "reasoning", text, signature: state.value });
        return;
      case "redacted":
        this.add("assistant", { type: "reasoning", text, redactedData: state.value });
        return;
      case "thought":
        this.add("assistant", { type: "reasoning", text, thoughtSignature: state.value });
        return;
      case "call-thought":
        if (beforeCall) this.#callThought = state.value;
        else this.add("assistant", { type: "reasoning", text, thoughtSignature: state.value });
        return;
    }
  }

  /** A call-thought carrier not followed by its call keeps the signature on a reasoning part. */
  #flushCallThought(): void {
    if (this.#callThought === undefined) return;
    this.add("assistant", { type: "reasoning", text: "", thoughtSignature: this.#callThought });
    this.#callThought = undefined;
  }
}
