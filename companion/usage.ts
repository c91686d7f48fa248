/**
 * Token usage, for quota settlement and the audit log.
 *
 * `UsageTap` watches a copy of a response body as it passes through and reads the provider's
 * own usage numbers from it, without holding the body: a stream is parsed as it arrives (SSE,
 * NDJSON, or a JSON array of objects) and only the latest numbers are kept; a plain JSON body
 * is buffered up to `MAX_BUFFERED_BYTES` and parsed at the end. The tap never throws: a body it
 * cannot read gives an empty `Usage`.
 *
 * Where each dialect puts its usage (field names checked against the providers' API references
 * and official SDK types):
 * - anthropic: `message_start.message.usage` then `message_delta.usage` (cumulative counters
 *   that replace earlier ones when present); a non-streamed message has `usage`. Total input is
 *   `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`; cached is
 *   `cache_read_input_tokens`; reasoning is `output_tokens_details.thinking_tokens`.
 * - openai-chat, openai-completions: `usage.prompt_tokens`, `completion_tokens`,
 *   `prompt_tokens_details.cached_tokens` (DeepSeek: `prompt_cache_hit_tokens`),
 *   `completion_tokens_details.reasoning_tokens`; streamed, on the chunk before `[DONE]` when
 *   the client asked for `stream_options.include_usage` (the other chunks carry `usage: null`).
 * - openai-responses: `response.usage` of `response.completed` (also `response.incomplete` and
 *   `response.failed`); a non-streamed response has `usage`. `input_tokens`, `output_tokens`,
 *   `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`.
 * - openai-embeddings: `usage.prompt_tokens` (no output tokens).
 * - gemini: `usageMetadata` of each chunk, the last one wins; `?alt=sse` streams and the plain
 *   `:streamGenerateContent` JSON array alike. Input is `promptTokenCount` (cached content
 *   included) + `toolUsePromptTokenCount`; output is `candidatesTokenCount` +
 *   `thoughtsTokenCount` (the two are separate counts there, and `totalTokenCount` is the sum of
 *   all four); cached is `cachedContentTokenCount`; reasoning is `thoughtsTokenCount`.
 * - ollama: `prompt_eval_count` and `eval_count` of the final (`done: true`) object; NDJSON
 *   when streamed.
 *
 * Web-standard only, like shared/.
 */
import { NdjsonParser } from "../shared/ndjson.ts";
import { SseParser } from "../shared/sse.ts";

export interface Usage {
  /** All input tokens, cached ones included. */
  inputTokens?: number;
  /** All output tokens, reasoning included. */
  outputTokens?: number;
  /** Input tokens served from the provider's prompt cache (part of `inputTokens`). */
  cachedTokens?: number;
  /** Output tokens spent on reasoning / thinking (part of `outputTokens`). */
  reasoningTokens?: number;
}

export type UsageTapDialect = "anthropic" | "openai-chat" | "openai-responses" | "openai-completions" | "openai-embeddings" | "gemini" | "ollama";

export interface UsageTapOptions {
  dialect: UsageTapDialect;
  streaming: boolean;
}

/** A non-streamed body larger than this is not parsed (its usage is reported as unknown). */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Largest single event or JSON object a stream may carry before the tap skips it (UTF-16 units). */
const MAX_EVENT_LENGTH = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

interface Reader {
  /** A substring every value holding usage contains: other events are not parsed at all. */
  readonly needle: string;
  read(value: unknown): void;
  usage(): Usage;
}

export class UsageTap {
  readonly #reader: Reader;
  readonly #streaming: boolean;
  readonly #dialect: UsageTapDialect;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  #mode: "sniff" | "sse" | "ndjson" | "json" = "sniff";
  /** Whitespace seen before the first meaningful character of a stream. */
  #prefix = "";
  #sse: SseParser | null = null;
  #ndjson: NdjsonParser | null = null;
  #scanner: JsonObjectScanner | null = null;
  /** Non-streaming: the decoded body so far. */
  #parts: string[] = [];
  #bytes = 0;
  #gaveUp = false;
  /** Something unexpected went wrong: stop reading, keep what was found. */
  #broken = false;
  #result: Usage | null = null;
  /** The message of an error event seen in a stream (the answer began well, then failed). */
  #failure: string | null = null;

  constructor(opts: UsageTapOptions) {
    this.#dialect = opts.dialect;
    this.#streaming = opts.streaming;
    this.#reader = readerFor(opts.dialect);
  }

  /**
   * A stream that carried its dialect's error event — Anthropic `event: error`, the Responses
   * API's `error` / `response.failed`, an OpenAI chat, Gemini or Ollama object with a top-level
   * `error` — failed after its head went out with 200: the audit must not call it a success.
   */
  failure(): string | null {
    return this.#failure;
  }

  /** True when a non-streamed body was over `MAX_BUFFERED_BYTES`, so its usage is not known. */
  get gaveUp(): boolean {
    return this.#gaveUp;
  }

  /** Observes the next piece of the body. The bytes are not kept (a copy of their text is, for a non-streamed body). */
  push(bytes: Uint8Array): void {
    if (this.#result || this.#gaveUp || this.#broken) return;
    try {
      if (!this.#streaming) {
        this.#bytes += bytes.byteLength;
        if (this.#bytes > MAX_BUFFERED_BYTES) {
          this.#gaveUp = true;
          this.#parts = [];
          return;
        }
        this.#parts.push(this.#decoder.decode(bytes, { stream: true }));
        return;
      }
      this.#feed(this.#decoder.decode(bytes, { stream: true }));
    } catch {
      this.#broken = true;
    }
  }

  /** The body has ended (or was cut off): the usage found. Idempotent; later pushes are ignored. */
  end(): Usage {
    if (this.#result) return { ...this.#result };
    if (!this.#gaveUp && !this.#broken) {
      try {
        if (this.#streaming) {
          this.#feed(this.#decoder.decode());
          this.#finishStream();
        } else {
          this.#parts.push(this.#decoder.decode());
          const text = this.#parts.join("");
          this.#parts = [];
          this.#readWhole(text);
        }
      } catch {
        // whatever was read before stays
      }
    }
    this.#parts = [];
    this.#sse = null;
    this.#ndjson = null;
    this.#scanner = null;
    this.#result = this.#gaveUp ? {} : this.#reader.usage();
    return { ...this.#result };
  }

  #readWhole(text: string): void {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      // Not one JSON value: read it as a stream would be (SSE, NDJSON, concatenated objects).
      this.#feed(body);
      this.#finishStream();
      return;
    }
    if (Array.isArray(value)) for (const item of value) this.#reader.read(item);
    else this.#reader.read(value);
  }

  #feed(text: string): void {
    if (text === "") return;
    if (this.#mode === "sniff") {
      const at = firstMeaningful(text);
      if (at === -1) {
        this.#prefix += text;
        if (this.#prefix.length > 64 * 1024) this.#choose("sse");
        else return;
      } else {
        this.#choose(this.#dialect === "ollama" ? "ndjson" : text[at] === "{" || text[at] === "[" ? "json" : "sse");
      }
      text = this.#prefix + (at === -1 ? "" : text);
      this.#prefix = "";
    }
    switch (this.#mode) {
      case "sse":
        for (const event of this.#sse!.push(text)) this.#readText(event.data);
        break;
      case "ndjson":
        for (const item of this.#ndjson!.push(text)) if (item.ok) this.#readValue(item.value);
        break;
      case "json":
        this.#scanner!.push(text);
        break;
      case "sniff":
        break;
    }
  }

  #choose(mode: "sse" | "ndjson" | "json"): void {
    this.#mode = mode;
    if (mode === "sse") this.#sse = new SseParser({ maxEventLength: MAX_EVENT_LENGTH });
    else if (mode === "ndjson") this.#ndjson = new NdjsonParser();
    else this.#scanner = new JsonObjectScanner(MAX_EVENT_LENGTH, (text) => this.#readText(text));
  }

  #finishStream(): void {
    if (this.#mode === "sse") for (const event of this.#sse!.end()) this.#readText(event.data);
    else if (this.#mode === "ndjson") for (const item of this.#ndjson!.end()) if (item.ok) this.#readValue(item.value);
  }

  #readText(text: string): void {
    // Only values that can hold usage or an error are parsed. A `"error"` key (every error event
    // has one, response.failed's response object included) cannot occur unescaped inside a string.
    const failing = this.#streaming && text.includes('"error"');
    if (!failing && !text.includes(this.#reader.needle)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return;
    }
    this.#readValue(value);
  }

  #readValue(value: unknown): void {
    if (this.#streaming && this.#failure === null) this.#failure = streamErrorOf(value);
    this.#reader.read(value);
  }
}

/** The message of a stream value that is an error event in any dialect, or null. */
function streamErrorOf(value: unknown): string | null {
  if (!isJson(value)) return null;
  let error: unknown;
  if (value.type === "response.failed") error = field(value.response, "error") ?? "the response failed";
  // OpenAI chat, Gemini, Ollama, and Anthropic's {type: "error", error: {...}}.
  else if (value.error !== undefined && value.error !== null) error = value.error;
  // The Responses API's flat {type: "error", code, message}.
  else if (value.type === "error") error = value;
  else return null;
  if (typeof error === "string") return error || "error";
  const message = field(error, "message");
  return typeof message === "string" && message !== "" ? message : "error";
}

/** Index of the first character that is not JSON whitespace or a BOM, or -1. */
function firstMeaningful(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0xfeff) return i;
  }
  return -1;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Finds complete top-level JSON objects in text that arrives in pieces: objects at the top
 * level (one, or several in a row as in NDJSON) or directly inside a top-level array (Gemini's
 * `:streamGenerateContent` without `alt=sse` answers `[{...},\r\n{...}]`). Only the object
 * being read is kept; one longer than `max` is skipped.
 */
class JsonObjectScanner {
  readonly #max: number;
  readonly #onObject: (text: string) => void;
  #depth = 0;
  #inTopArray = false;
  #inString = false;
  #escaped = false;
  #capturing = false;
  #parts: string[] = [];
  #length = 0;
  #tooLong = false;

  constructor(max: number, onObject: (text: string) => void) {
    this.#max = max;
    this.#onObject = onObject;
  }

  push(chunk: string): void {
    let start = this.#capturing ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) this.#inString = false;
        continue;
      }
      if (c === QUOTE) {
        this.#inString = true;
      } else if (c === OPEN_BRACE) {
        if (!this.#capturing && this.#depth === (this.#inTopArray ? 1 : 0)) {
          this.#capturing = true;
          this.#parts = [];
          this.#length = 0;
          this.#tooLong = false;
          start = i;
        }
        this.#depth++;
      } else if (c === OPEN_BRACKET) {
        if (this.#depth === 0) this.#inTopArray = true;
        this.#depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.#depth > 0) this.#depth--;
        if (this.#depth === 0 && c === CLOSE_BRACKET) this.#inTopArray = false;
        if (c === CLOSE_BRACE && this.#capturing && this.#depth === (this.#inTopArray ? 1 : 0)) {
          this.#keep(chunk, start, i + 1);
          this.#capturing = false;
          start = -1;
          const parts = this.#parts;
          this.#parts = [];
          if (!this.#tooLong) this.#onObject(parts.length === 1 ? parts[0]! : parts.join(""));
        }
      }
    }
    if (this.#capturing && start !== -1) this.#keep(chunk, start, chunk.length);
  }

  #keep(chunk: string, from: number, to: number): void {
    if (this.#tooLong) return;
    this.#length += to - from;
    if (this.#length > this.#max) {
      this.#tooLong = true;
      this.#parts = [];
      return;
    }
    this.#parts.push(from === 0 && to === chunk.length ? chunk : chunk.slice(from, to));
  }
}

function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A token count: a finite, non-negative number; anything else (null, missing) is unknown. */
function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function field(value: unknown, key: string): unknown {
  return isJson(value) ? value[key] : undefined;
}

function sum(...values: (number | undefined)[]): number | undefined {
  let total: number | undefined;
  for (const v of values) if (v !== undefined) total = (total ?? 0) + v;
  return total;
}

function compact(usage: Usage): Usage {
  const out: Usage = {};
  if (usage.inputTokens !== undefined) out.inputTokens = usage.inputTokens;
  if (usage.outputTokens !== undefined) out.outputTokens = usage.outputTokens;
  if (usage.cachedTokens !== undefined) out.cachedTokens = usage.cachedTokens;
  if (usage.reasoningTokens !== undefined) out.reasoningTokens = usage.reasoningTokens;
  return out;
}

function readerFor(dialect: UsageTapDialect): Reader {
  switch (dialect) {
    case "anthropic":
      return anthropicReader();
    case "openai-chat":
    case "openai-completions":
      return lastUsage("usage", (v) => isJson(v.usage) ? chatUsage(v.usage) : null);
    case "openai-embeddings":
      return lastUsage("usage", (v) => {
        if (!isJson(v.usage)) return null;
        return { inputTokens: count(v.usage.prompt_tokens) ?? count(v.usage.total_tokens) };
      });
    case "openai-responses":
      return lastUsage("usage", (v) => {
        // Stream events carry the response under `response`; a non-streamed response is the object itself.
        const usage = isJson(v.response) ? v.response.usage : v.usage;
        return isJson(usage) ? responsesUsage(usage) : null;
      });
    case "gemini":
      return lastUsage("usageMetadata", (v) => isJson(v.usageMetadata) ? geminiUsage(v.usageMetadata) : null);
    case "ollama":
      return lastUsage("eval_count", (v) => {
        if (v.done === false) return null;
        const input = count(v.prompt_eval_count);
        const output = count(v.eval_count);
        return input === undefined && output === undefined ? null : { inputTokens: input, outputTokens: output };
      });
  }
}

/** Readers whose latest usage object replaces the earlier ones whole. */
function lastUsage(needle: string, extract: (value: Json) => Usage | null): Reader {
  let latest: Usage = {};
  return {
    needle,
    read(value) {
      if (!isJson(value)) return;
      const found = extract(value);
      if (found) latest = compact(found);
    },
    usage: () => ({ ...latest }),
  };
}

function chatUsage(u: Json): Usage {
  return {
    inputTokens: count(u.prompt_tokens),
    outputTokens: count(u.completion_tokens),
    cachedTokens: count(field(u.prompt_tokens_details, "cached_tokens")) ?? count(u.prompt_cache_hit_tokens),
    reasoningTokens: count(field(u.completion_tokens_details, "reasoning_tokens")),
  };
}

function responsesUsage(u: Json): Usage {
  return {
    inputTokens: count(u.input_tokens),
    outputTokens: count(u.output_tokens),
    cachedTokens: count(field(u.input_tokens_details, "cached_tokens")),
    reasoningTokens: count(field(u.output_tokens_details, "reasoning_tokens")),
  };
}

function geminiUsage(u: Json): Usage {
  const prompt = count(u.promptTokenCount);
  const toolUse = count(u.toolUsePromptTokenCount);
  const thoughts = count(u.thoughtsTokenCount);
  return {
    inputTokens: sum(prompt, toolUse),
    outputTokens: sum(count(u.candidatesTokenCount), thoughts),
    cachedTokens: count(u.cachedContentTokenCount),
    reasoningTokens: thoughts,
  };
}

/**
 * Anthropic's counters are whole-message totals: `message_start` gives the first values and
 * each `message_delta` replaces those it carries (null or missing ones stay), as the official
 * SDK's stream accumulator does.
 */
function anthropicReader(): Reader {
  let input: number | undefined;
  let cacheRead: number | undefined;
  let cacheCreation: number | undefined;
  let output: number | undefined;
  let thinking: number | undefined;
  const take = (u: Json) => {
    input = count(u.input_tokens) ?? input;
    cacheRead = count(u.cache_read_input_tokens) ?? cacheRead;
    cacheCreation = count(u.cache_creation_input_tokens) ?? cacheCreation;
    output = count(u.output_tokens) ?? output;
    thinking = count(field(u.output_tokens_details, "thinking_tokens")) ?? thinking;
  };
  return {
    needle: "usage",
    read(value) {
      if (!isJson(value)) return;
      if (value.type === "message_start") {
        const usage = field(value.message, "usage");
        if (isJson(usage)) take(usage);
      } else if (isJson(value.usage)) {
        // message_delta, and a non-streamed message
        take(value.usage);
      }
    },
    usage: () =>
      compact({
        inputTokens: sum(input, cacheRead, cacheCreation),
        outputTokens: output,
        cachedTokens: cacheRead,
        reasoningTokens: thinking,
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Pre-request estimate

/** Output allowance reserved when the request sets no output limit. */
export const DEFAULT_OUTPUT_ALLOWANCE = 1024;
/** What one inline image, audio clip or file (base64) is reserved as, whatever its size. */
export const INLINE_MEDIA_TOKENS = 1024;

/** Request fields whose text the model reads, across the dialects. */
const CONTENT_KEYS = ["messages", "contents", "input", "prompt", "system", "systemInstruction", "system_instruction", "instructions", "tools", "functions"];
/** Fields where arrays of numbers are token ids (pre-tokenized prompts and embeddings input). */
const TOKEN_ID_KEYS = new Set(["input", "prompt"]);
/** Keys whose object holds base64 bytes in `data` (Gemini inline data, OpenAI input audio). */
const MEDIA_PARENTS = new Set(["inlineData", "inline_data", "input_audio"]);

/**
 * A rough estimate of the tokens a request will use, made before sending it so a quota can
 * reserve them; the real usage settles the reservation afterwards. It is an estimate, not a
 * tokenizer: the characters of the strings the model reads (messages / contents / input /
 * prompt / system / instructions / tools) divided by 4, rounded up; each token id of a
 * pre-tokenized input as one token; each inline base64 image, audio clip or file as
 * `INLINE_MEDIA_TOKENS` (its text length says little about its tokens); plus the request's
 * output limit (`max_tokens`, `max_output_tokens`, `max_completion_tokens`,
 * `generationConfig.maxOutputTokens`, `options.num_predict`; the largest if several), or
 * `DEFAULT_OUTPUT_ALLOWANCE` when there is none. A request without a body reserves nothing.
 */
export function estimateTokens(body: unknown): number {
  if (!isJson(body)) return 0;
  let chars = 0;
  let tokenIds = 0;
  let media = 0;
  const seen = new WeakSet<object>();
  // Iterative walk: a deeply nested body cannot overflow the stack.
  const stack: { value: unknown; key: string; parent: Json | null; parentKey: string; tokenIds: boolean }[] = [];
  for (const key of CONTENT_KEYS) {
    if (key in body) stack.push({ value: body[key], key, parent: body, parentKey: "", tokenIds: TOKEN_ID_KEYS.has(key) });
  }
  while (stack.length > 0) {
    const { value, key, parent, parentKey, tokenIds: ids } = stack.pop()!;
    if (typeof value === "string") {
      if (isInlineMedia(value, key, parent, parentKey)) media++;
      else chars += value.length;
    } else if (typeof value === "number") {
      if (ids) tokenIds++;
    } else if (typeof value === "object" && value !== null) {
      if (seen.has(value)) continue;
      seen.add(value);
      if (Array.isArray(value)) {
        // Array items keep the array's key, so `images: [...]` items are known as images.
        for (const item of value) stack.push({ value: item, key, parent, parentKey, tokenIds: ids });
      } else {
        const obj = value as Json;
        for (const k of Object.keys(obj)) stack.push({ value: obj[k], key: k, parent: obj, parentKey: key, tokenIds: ids });
      }
    }
  }
  return Math.ceil(chars / 4) + tokenIds + media * INLINE_MEDIA_TOKENS + (outputLimit(body) ?? DEFAULT_OUTPUT_ALLOWANCE);
}

function isInlineMedia(value: string, key: string, parent: Json | null, parentKey: string): boolean {
  if (value.startsWith("data:") && value.slice(0, 256).includes(";base64,")) return true;
  if (key === "images") return true; // Ollama: base64 images in a message
  if (key === "file_data") return true; // OpenAI input_file
  if (key === "data") return MEDIA_PARENTS.has(parentKey) || parent?.type === "base64"; // Anthropic base64 sources
  return false;
}

function outputLimit(body: Json): number | undefined {
  const limits = [
    body.max_tokens,
    body.max_output_tokens,
    body.max_completion_tokens,
    field(body.generationConfig, "maxOutputTokens"),
    field(body.generation_config, "max_output_tokens"),
    field(body.options, "num_predict"), // Ollama; -1 (no limit) and -2 (fill the context) are not limits
  ].filter((v): v is number => typeof v === "number" && Number.isFinite(v) && v > 0);
  return limits.length > 0 ? Math.ceil(Math.max(...limits)) : undefined;
}
