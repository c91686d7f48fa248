/**
 * Prompt token counts for `count_tokens` requests the companion answers itself (Anthropic
 * `/v1/messages/count_tokens` and Gemini `:countTokens` routed to a target that has no counting
 * endpoint in the client's dialect). Such answers are never charged to a quota.
 *
 * The count tokenizes the text the model would actually read, with OpenAI's `o200k_base`
 * encoding (GPT-4o and later) through js-tiktoken, whose ranks ship inside the npm package
 * (no download at run time). It is exact only for OpenAI models that use o200k_base, and
 * even then the framing tokens are the cookbook's published constants, not the server's own
 * rendering. **For every other model it is an estimate made with an OpenAI tokenizer**:
 * Claude, Gemini, Qwen or Llama tokenizers split text differently, typically 10–20 % apart
 * from o200k_base (more for code and non-English text), so treat the result as an estimate,
 * which is why the pipeline marks the answer `x-ferry-estimate: true`.
 *
 * What is tokenized (every string separately, as the model sees them separated by framing):
 * the system prompt / instructions; each message's role and its text parts (text, refusals,
 * visible reasoning); tool definitions as name + description + compact JSON of the schema;
 * tool calls as name + argument JSON; tool results' text (Gemini `functionResponse.response`
 * as JSON). Opaque fields (ids, signatures, encrypted reasoning, cache hints, base64 data) are
 * not text the model reads and are skipped. Blocks of a kind this module does not know are
 * counted by their string values, opaque keys excluded.
 *
 * Fixed allowances, added to the tokenized text:
 * - `MESSAGE_TOKENS` (3) per message, a top-level system prompt / instructions counting as one
 *   message, `NAME_TOKENS` (1) per message `name`, and `REPLY_PRIMER_TOKENS` (3) once: the
 *   OpenAI Cookbook's "How to count tokens with tiktoken" (openai/openai-cookbook,
 *   examples/How_to_count_tokens_with_tiktoken.ipynb), `num_tokens_from_messages()` for
 *   gpt-4o: `tokens_per_message = 3`, `tokens_per_name = 1`, "every reply is primed with
 *   <|start|>assistant<|message|>" = 3, and every value of a message (its role too) tokenized.
 *   Its six-message example counts 124 there, as the API did, and 124 here. Each Responses API
 *   input item is a message of its own; tool calls and tool results inside a message
 *   (Anthropic, Gemini) add no framing of their own (none is published).
 * - `TOOL_TOKENS` (7) per tool definition and `TOOLS_TOKENS` (12) once when there are tools:
 *   the same notebook's `num_tokens_for_tools()` for gpt-4o (`func_init = 7`, `func_end = 12`).
 *   It renders the schema more compactly than JSON, so counting the JSON text errs high: its
 *   weather-tool example counts 122 here where the API said 101.
 * - `IMAGE_TOKENS` (1,600) per image, and per other attachment (audio, PDF, file): an image's
 *   pixel size is not known without decoding it. Claude scales images down to ~1,600 tokens
 *   at most (Anthropic's vision guide: long edge ≤ 1568 px, ~1.15 megapixels); a 1920×1080
 *   screenshot is ~1,550 tokens on Gemini (258 per 768×768 tile) and ~1,100 on GPT-4o (high
 *   detail), so 1,600 is a full-size image on any of them. Documents cost more per page; this
 *   is a floor for them.
 *
 * Speed: every string is tokenized once (strings are encoded in batches split at the
 * tokenizer's own piece boundaries, so batching changes nothing). js-tiktoken's merge step is
 * quadratic in the length of one regex piece, so a piece longer than `MAX_PIECE_BYTES` (a run
 * of letters, spaces or CJK characters with no break) is encoded in slices of at most that
 * many bytes: linear overall. Tokens cannot merge across slices, so such runs count a little
 * high: about 1 % on random letters, 5 % on CJK prose, and up to 4× on long runs of spaces
 * (o200k_base has single tokens of up to 128 spaces: 1,000 spaces count 32, not 9).
 * Tokenizing stops after `MAX_TOKENIZE_WORK` units of work, which bounds the CPU one count
 * takes (it runs on the event loop): js-tiktoken does some 500–1,000 tokens/ms on code, so
 * 4 MB of text would block for 1–2 s, and CJK text is several times slower per character;
 * the cap is in work rather than characters so that it holds for those too. The rest is
 * estimated at the tokens-per-character rate of what was tokenized (characters / 4 alone
 * would undercount CJK text about threefold), but never below characters / 4.
 *
 * The encoder (200k ranks, ~70 MB of heap, ~0.6 s to build) is built on first use only.
 */
import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";

export type PromptDialect = "anthropic" | "openai-chat" | "openai-responses" | "gemini" | "ollama";

/** Framing of one message (`<|start|>role<|message|>…<|end|>`): OpenAI Cookbook, gpt-4o. */
export const MESSAGE_TOKENS = 3;
/** A message's `name` field costs its tokens plus this: OpenAI Cookbook, gpt-4o. */
export const NAME_TOKENS = 1;
/** The reply is primed with `<|start|>assistant<|message|>`: OpenAI Cookbook, gpt-4o. */
export const REPLY_PRIMER_TOKENS = 3;
/** Framing of one tool definition (`func_init`): OpenAI Cookbook, gpt-4o. */
export const TOOL_TOKENS = 7;
/** Framing of the tool list as a whole (`func_end`): OpenAI Cookbook, gpt-4o. */
export const TOOLS_TOKENS = 12;
/** One image or other attachment (see the module comment). */
export const IMAGE_TOKENS = 1600;
/** Longest regex piece (UTF-8 bytes) handed to the tokenizer whole; longer ones are sliced. */
export const MAX_PIECE_BYTES = 32;
/**
 * Work tokenized per request at most, in units of roughly 0.1 µs of the slowest text: each
 * regex piece costs `PIECE_WORK` + its UTF-8 bytes squared (js-tiktoken merges a piece that is
 * not a single token in time quadratic in its bytes), each string `CALL_WORK`. English prose
 * and code cost about 10 units per byte (most of their pieces are single tokens, so this
 * overcharges them), which lets some 600 KB of them (~150k tokens) be tokenized in full;
 * random letters or CJK text reach the cap sooner. Measured on a 2-core machine (busy with
 * other test runs), the slowest inputs took about 0.15 µs per unit: under a second of CPU.
 */
export const MAX_TOKENIZE_WORK = 6_000_000;
/** Work charged per regex piece, whatever its length (encoding it, looking it up). */
export const PIECE_WORK = 16;
/** Work charged per string, for the tokenizer's per-call setup (a few microseconds). */
export const CALL_WORK = 64;

/** Keys whose string values are not text the model reads. */
const OPAQUE_KEYS = new Set([
  "type",
  "id",
  "tool_use_id",
  "tool_call_id",
  "call_id",
  "signature",
  "thoughtSignature",
  "thought_signature",
  "encrypted_content",
  "data",
  "file_data",
  "file_id",
  "cache_control",
  "media_type",
  "mimeType",
  "mime_type",
  "status",
]);

/** Slices of a batch are encoded once this many characters have gathered. */
const BATCH_CHARS = 64 * 1024;

let encoder: Tiktoken | null = null;
/** The tokenizer's own pre-split pattern, run here to find piece boundaries. */
const PIECES = new RegExp(o200k.pat_str, "gu");

function tiktoken(): Tiktoken {
  encoder ??= new Tiktoken(o200k);
  return encoder;
}

/**
 * Tokens of the prompt in `body` (a request of `dialect`, count_tokens bodies included): see
 * the module comment for what is counted. For non-OpenAI models an estimate. A body that is
 * not a JSON object counts 0. Never throws on any JSON value.
 */
export function countPromptTokens(body: unknown, dialect: PromptDialect): number {
  if (!isObject(body)) return 0;
  const prompt = new Prompt();
  switch (dialect) {
    case "anthropic":
      anthropicPrompt(body, prompt);
      break;
    case "openai-chat":
      openaiChatPrompt(body, prompt);
      break;
    case "openai-responses":
      responsesPrompt(body, prompt);
      break;
    case "gemini":
      geminiPrompt(body, prompt);
      break;
    case "ollama":
      ollamaPrompt(body, prompt);
      break;
  }
  prompt.fixed += REPLY_PRIMER_TOKENS;
  const budget = new Budget();
  for (const text of prompt.texts) budget.tokenize(text);
  return prompt.fixed + budget.total();
}

/** o200k_base tokens of one string (within the same limits as a prompt). */
export function countTextTokens(text: string): number {
  const budget = new Budget();
  budget.tokenize(text);
  return budget.total();
}

// ---------------------------------------------------------------------------------------------
// Tokenizing within limits

class Budget {
  private tokens = 0;
  private chars = 0;
  private work = 0;
  private restChars = 0;
  private exhausted = false;

  /** Tokens so far, plus the estimate for what was left over. */
  total(): number {
    if (this.restChars === 0) return this.tokens;
    const rate = this.chars > 0 ? Math.max(0.25, this.tokens / this.chars) : 0.25;
    return this.tokens + Math.ceil(this.restChars * rate);
  }

  tokenize(text: string): void {
    if (text.length === 0) return;
    if (this.exhausted || !this.take(0, CALL_WORK)) {
      this.restChars += text.length;
      return;
    }
    const enc = tiktoken();
    const encode = (from: number, to: number) => {
      if (to > from) this.tokens += enc.encode(text.slice(from, to), [], []).length;
    };
    let batch = 0; // start of the text not encoded yet; always a piece boundary
    PIECES.lastIndex = 0;
    for (let m = PIECES.exec(text); m !== null; m = PIECES.exec(text)) {
      const piece = m[0];
      const start = m.index;
      const end = start + piece.length;
      const bytes = utf8Length(piece, 0, piece.length);
      if (bytes <= MAX_PIECE_BYTES) {
        if (!this.take(piece.length, PIECE_WORK + bytes * bytes)) {
          encode(batch, start);
          this.restChars += text.length - start;
          return;
        }
        if (end - batch >= BATCH_CHARS) {
          encode(batch, end);
          batch = end;
        }
        continue;
      }
      // A long run: encode it in slices, so the quadratic merge stays small.
      encode(batch, start);
      let i = 0;
      while (i < piece.length) {
        const j = sliceEnd(piece, i);
        const sliceBytes = utf8Length(piece, i, j);
        if (!this.take(j - i, PIECE_WORK + sliceBytes * sliceBytes)) {
          this.restChars += text.length - (start + i);
          return;
        }
        this.tokens += enc.encode(piece.slice(i, j), [], []).length;
        i = j;
      }
      batch = end;
    }
    encode(batch, text.length);
  }

  private take(chars: number, work: number): boolean {
    if (this.work + work > MAX_TOKENIZE_WORK) {
      this.exhausted = true;
      return false;
    }
    this.chars += chars;
    this.work += work;
    return true;
  }
}

/** UTF-8 length of `s[from, to)` (a lone surrogate counts 2 bytes rather than 3: close enough). */
function utf8Length(s: string, from: number, to: number): number {
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
  }
  return bytes;
}

/** End of the slice of `piece` from `from` holding at most MAX_PIECE_BYTES (one code point at least). */
function sliceEnd(piece: string, from: number): number {
  let bytes = 0;
  let i = from;
  while (i < piece.length) {
    const c = piece.charCodeAt(i);
    const pair = c >= 0xd800 && c < 0xdc00 && i + 1 < piece.length;
    const width = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    if (bytes + width > MAX_PIECE_BYTES && i > from) break;
    bytes += width;
    i += pair ? 2 : 1;
  }
  return i;
}

// ---------------------------------------------------------------------------------------------
// What the model reads, per dialect

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Strings to tokenize, and the fixed tokens (framing, attachments) found on the way. */
class Prompt {
  readonly texts: string[] = [];
  fixed = 0;

  text(value: unknown): void {
    if (typeof value === "string" && value.length > 0) this.texts.push(value);
  }

  /** A string as it is, anything else as compact JSON (tool arguments, schemas, results). */
  json(value: unknown): void {
    if (value === undefined || value === null) return;
    if (typeof value === "string") return this.text(value);
    try {
      this.text(JSON.stringify(value));
    } catch {
      // not serializable (too deep): nothing a model could have been sent
    }
  }

  message(role: unknown): void {
    this.fixed += MESSAGE_TOKENS;
    this.text(role);
  }

  name(name: unknown): void {
    if (typeof name !== "string") return;
    this.fixed += NAME_TOKENS;
    this.text(name);
  }

  image(count = 1): void {
    this.fixed += IMAGE_TOKENS * count;
  }

  tools(tools: { name: unknown; description: unknown; schema: unknown }[]): void {
    if (tools.length === 0) return;
    this.fixed += TOOLS_TOKENS;
    for (const tool of tools) {
      this.fixed += TOOL_TOKENS;
      this.text(tool.name);
      this.text(tool.description);
      this.json(tool.schema);
    }
  }

  /** Every string value under `value` except opaque keys; data: URLs count as attachments. */
  strings(value: unknown): void {
    const stack: unknown[] = [value];
    while (stack.length > 0) {
      const v = stack.pop();
      if (typeof v === "string") {
        if (isDataUrl(v)) this.image();
        else this.text(v);
      } else if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
      } else if (isObject(v)) {
        const keys = Object.keys(v);
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i]!;
          if (!OPAQUE_KEYS.has(key)) stack.push(v[key]);
        }
      }
    }
  }
}

function isDataUrl(value: string): boolean {
  return value.startsWith("data:") && value.slice(0, 256).includes(";base64,");
}

/** OpenAI-style function tools: `{type: "function", function: {name, description, parameters}}`, flat ones too. */
function functionTools(tools: unknown): { name: unknown; description: unknown; schema: unknown }[] {
  return list(tools)
    .filter(isObject)
    .map((tool) => {
      const fn = isObject(tool.function) ? tool.function : isObject(tool.custom) ? tool.custom : tool;
      return { name: fn.name ?? tool.type, description: fn.description, schema: fn.parameters ?? fn.input_schema ?? fn.format };
    });
}

// Anthropic Messages: system (string or text blocks), messages of string or block content, tools.

function anthropicPrompt(body: Json, p: Prompt): void {
  if (body.system !== undefined && body.system !== null) {
    p.message("system");
    anthropicContent(body.system, p);
  }
  for (const message of list(body.messages)) {
    if (!isObject(message)) continue;
    p.message(message.role);
    anthropicContent(message.content, p);
  }
  p.tools(
    list(body.tools)
      .filter(isObject)
      .map((tool) => ({ name: tool.name ?? tool.type, description: tool.description, schema: tool.input_schema })),
  );
}

/** Nesting (tool results holding documents holding content…) followed at most; deeper is read as plain strings. */
const MAX_DEPTH = 8;

function anthropicContent(content: unknown, p: Prompt, depth = 0): void {
  if (typeof content === "string") return p.text(content);
  if (depth > MAX_DEPTH) return p.strings(content);
  for (const block of list(content)) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case "text":
        p.text(block.text);
        break;
      case "image":
        p.image();
        break;
      case "document": {
        const source = isObject(block.source) ? block.source : {};
        if (source.type === "text") p.text(source.data);
        else if (source.type === "content") anthropicContent(source.content, p, depth + 1);
        else p.image();
        p.text(block.title);
        p.text(block.context);
        break;
      }
      case "tool_use":
      case "server_tool_use":
      case "mcp_tool_use":
        p.text(block.name);
        p.json(block.input);
        break;
      case "tool_result":
      case "mcp_tool_result":
        anthropicContent(block.content, p, depth + 1);
        break;
      case "thinking":
        p.text(block.thinking);
        break;
      case "redacted_thinking":
        break;
      default:
        p.strings(block);
    }
  }
}

// OpenAI Chat Completions: messages (string or part content, name, tool_calls), tools, functions.

function openaiChatPrompt(body: Json, p: Prompt): void {
  for (const message of list(body.messages)) {
    if (!isObject(message)) continue;
    p.message(message.role);
    p.name(message.name);
    openaiChatContent(message.content, p);
    p.text(message.refusal);
    p.text(message.reasoning_content); // DeepSeek-style visible reasoning sent back
    for (const call of list(message.tool_calls)) {
      if (!isObject(call)) continue;
      const fn = isObject(call.function) ? call.function : isObject(call.custom) ? call.custom : {};
      p.text(fn.name);
      p.json(fn.arguments ?? fn.input);
    }
    if (isObject(message.function_call)) {
      p.text(message.function_call.name);
      p.json(message.function_call.arguments);
    }
  }
  p.tools([...functionTools(body.tools), ...functionTools(body.functions)]);
}

function openaiChatContent(content: unknown, p: Prompt): void {
  if (typeof content === "string") return p.text(content);
  for (const part of list(content)) {
    if (typeof part === "string") {
      p.text(part);
      continue;
    }
    if (!isObject(part)) continue;
    switch (part.type) {
      case "text":
        p.text(part.text);
        break;
      case "refusal":
        p.text(part.refusal);
        break;
      case "image_url":
      case "input_audio":
      case "file":
        p.image();
        break;
      default:
        p.strings(part);
    }
  }
}

// OpenAI Responses: instructions, input (string or items), tools.

function responsesPrompt(body: Json, p: Prompt): void {
  if (typeof body.instructions === "string") {
    p.message("system");
    p.text(body.instructions);
  }
  if (typeof body.input === "string") {
    p.message("user");
    p.text(body.input);
  }
  for (const item of list(body.input)) {
    if (typeof item === "string") {
      p.message("user");
      p.text(item);
      continue;
    }
    if (!isObject(item) || item.type === "item_reference") continue;
    p.message(item.role);
    switch (item.type) {
      case undefined:
      case "message":
        responsesContent(item.content, p);
        break;
      case "function_call":
        p.text(item.name);
        p.json(item.arguments);
        break;
      case "custom_tool_call":
        p.text(item.name);
        p.json(item.input);
        break;
      case "function_call_output":
      case "custom_tool_call_output":
        responsesContent(item.output, p);
        break;
      case "reasoning":
        // The model reads the encrypted reasoning, which cannot be counted; visible text is the best proxy.
        for (const part of list(item.content)) if (isObject(part)) p.text(part.text);
        break;
      default:
        p.strings(item);
    }
  }
  p.tools(functionTools(body.tools));
}

function responsesContent(content: unknown, p: Prompt): void {
  if (typeof content === "string") return p.text(content);
  for (const part of list(content)) {
    if (!isObject(part)) continue;
    switch (part.type) {
      case "input_text":
      case "output_text":
      case "text":
        p.text(part.text);
        break;
      case "refusal":
        p.text(part.refusal);
        break;
      case "input_image":
      case "input_file":
      case "input_audio":
        p.image();
        break;
      default:
        p.strings(part);
    }
  }
}

// Gemini: systemInstruction, contents of parts, tools (functionDeclarations); countTokens may
// wrap the request as `generateContentRequest`. Proto JSON accepts camelCase and snake_case.

function geminiPrompt(body: Json, p: Prompt): void {
  const wrapped = body.generateContentRequest ?? body.generate_content_request;
  const request = isObject(wrapped) ? wrapped : body;
  const system = request.systemInstruction ?? request.system_instruction;
  if (system !== undefined && system !== null) {
    p.message("system");
    geminiContent(system, p);
  }
  const contents = request.contents;
  for (const content of Array.isArray(contents) ? contents : [contents]) {
    if (content === undefined || content === null) continue;
    p.message(isObject(content) ? content.role : "user");
    geminiContent(content, p);
  }
  const tools: { name: unknown; description: unknown; schema: unknown }[] = [];
  for (const tool of list(request.tools)) {
    if (!isObject(tool)) continue;
    for (const [key, value] of Object.entries(tool)) {
      if (key === "functionDeclarations" || key === "function_declarations") {
        for (const fn of list(value)) {
          if (!isObject(fn)) continue;
          const schema = fn.parameters ?? fn.parametersJsonSchema ?? fn.parameters_json_schema;
          tools.push({ name: fn.name, description: fn.description, schema });
        }
      } else {
        tools.push({ name: key, description: undefined, schema: undefined }); // googleSearch, codeExecution, …
      }
    }
  }
  p.tools(tools);
}

/** A Content (`{role, parts}`), a bare part list, a part, or a string. */
function geminiContent(content: unknown, p: Prompt, depth = 0): void {
  if (typeof content === "string") return p.text(content);
  if (depth > MAX_DEPTH) return p.strings(content);
  const parts = isObject(content) && "parts" in content ? content.parts : content;
  for (const part of Array.isArray(parts) ? parts : [parts]) {
    if (typeof part === "string") {
      p.text(part);
      continue;
    }
    if (!isObject(part)) continue;
    if (typeof part.text === "string") {
      p.text(part.text);
      continue;
    }
    const call = part.functionCall ?? part.function_call;
    const response = part.functionResponse ?? part.function_response;
    const code = part.executableCode ?? part.executable_code;
    const result = part.codeExecutionResult ?? part.code_execution_result;
    if (part.inlineData ?? part.inline_data ?? part.fileData ?? part.file_data) {
      p.image();
    } else if (isObject(call)) {
      p.text(call.name);
      p.json(call.args);
    } else if (isObject(response)) {
      p.text(response.name);
      p.json(response.response);
      if (response.parts !== undefined) geminiContent(response.parts, p, depth + 1);
    } else if (isObject(code)) {
      p.text(code.code);
    } else if (isObject(result)) {
      p.text(result.output);
    } else {
      p.strings(part);
    }
  }
}

// Ollama: /api/chat messages (string content, base64 images, tool_calls with object arguments),
// tools; /api/generate's system, prompt and images too.

function ollamaPrompt(body: Json, p: Prompt): void {
  if (typeof body.system === "string") {
    p.message("system");
    p.text(body.system);
  }
  if (typeof body.prompt === "string" || Array.isArray(body.images)) {
    p.message("user");
    p.text(body.prompt);
    p.image(list(body.images).length);
  }
  for (const message of list(body.messages)) {
    if (!isObject(message)) continue;
    p.message(message.role);
    p.text(message.content);
    p.text(message.thinking);
    p.image(list(message.images).length);
    for (const call of list(message.tool_calls)) {
      const fn = isObject(call) && isObject(call.function) ? call.function : {};
      p.text(fn.name);
      p.json(fn.arguments);
    }
  }
  p.tools(functionTools(body.tools));
}
