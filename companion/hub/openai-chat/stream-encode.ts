/**
 * IR events → `chat.completion.chunk` SSE for the client, one event at a time.
 *
 * What the openai SDK's ChatCompletionStream needs (node_modules/openai/src/lib/
 * ChatCompletionStream.ts): the same id/created/model on every chunk, a `role` before the
 * end (sent in the first chunk, as OpenAI does), each tool call's `type` and `function.name`
 * in its first fragment (later fragments carry only `index` and argument text), and a
 * `finish_reason` on the last choice chunk. With `stream_options.include_usage` a last chunk
 * with empty `choices` carries the usage (SDK `ChatCompletionStreamOptions`); `data: [DONE]`
 * ends the stream.
 *
 * Reasoning goes out as DeepSeek's `delta.reasoning_content`; clients that do not know it
 * ignore it. An IR `error` becomes `data: {"error": {...}}`: the openai SDK throws an
 * APIError for any event whose data has an `error` (core/streaming.ts); `[DONE]` still
 * follows at `end()` for hand-written parsers.
 */
import { encodeSse } from "../../../shared/sse.ts";
import type { EncodeContext, StreamEncoder } from "../codec.ts";
import type { IrEvent, IrUsage } from "../ir.ts";
import { encodeToolCall } from "./response.ts";
import { encodeErrorBody, encodeFinishReason, encodeUsage, type Json } from "./wire.ts";

interface Block {
  kind: "text" | "reasoning" | "tool";
  /** The tool call's index on the wire. */
  tool: number;
  /** Whether any argument text went out. */
  args: boolean;
}

export class ChatStreamEncoder implements StreamEncoder {
  readonly #id: string;
  readonly #created: number;
  readonly #model: string;
  readonly #includeUsage: boolean;
  readonly #blocks = new Map<number, Block>();
  #nextTool = 0;
  #usage: IrUsage = {};
  #roleSent = false;
  #finished = false;
  #errored = false;
  #ended = false;

  constructor(ctx: EncodeContext & { includeUsage?: boolean }) {
    this.#id = ctx.id;
    this.#created = Math.floor(ctx.now / 1000);
    this.#model = ctx.model;
    this.#includeUsage = ctx.includeUsage === true;
  }

  push(e: IrEvent): string {
    if (this.#ended || this.#errored) return "";
    if (e.type === "error") {
      this.#errored = true;
      return encodeSse({ data: JSON.stringify(encodeErrorBody(e.status, e.code, e.message)) });
    }
    if (this.#finished) return "";
    switch (e.type) {
      case "start":
        if (e.usage) this.#usage = { ...this.#usage, ...e.usage };
        return this.#role();
      case "block_start":
        return this.#role() + this.#blockStart(e.index, e.part);
      case "text_delta":
        return e.text === "" ? "" : this.#role() + this.#chunk({ content: e.text });
      case "reasoning_delta":
        // A signature has no place on this wire.
        return e.text === undefined || e.text === "" ? "" : this.#role() + this.#chunk({ reasoning_content: e.text });
      case "tool_arguments_delta": {
        const block = this.#blocks.get(e.index);
        if (!block || block.kind !== "tool" || e.json === "") return "";
        block.args = true;
        return this.#role() + this.#chunk({ tool_calls: [{ index: block.tool, function: { arguments: e.json } }] });
      }
      case "block_stop": {
        const block = this.#blocks.get(e.index);
        this.#blocks.delete(e.index);
        // A call without arguments still gets "{}" so that clients can JSON.parse it.
        if (block?.kind === "tool" && !block.args) return this.#chunk({ tool_calls: [{ index: block.tool, function: { arguments: "{}" } }] });
        return "";
      }
      case "dropped":
        return "";
      case "usage":
        this.#usage = { ...this.#usage, ...e.usage };
        return "";
      case "finish": {
        if (e.usage) this.#usage = { ...this.#usage, ...e.usage };
        this.#finished = true;
        let out = this.#role() + this.#chunk({}, encodeFinishReason(e.stopReason));
        if (this.#includeUsage) out += this.#frame([], encodeUsage(this.#usage));
        return out;
      }
    }
  }

  end(): string {
    if (this.#ended) return "";
    this.#ended = true;
    return encodeSse({ data: "[DONE]" });
  }

  #blockStart(index: number, part: Extract<IrEvent, { type: "block_start" }>["part"]): string {
    switch (part.type) {
      case "text":
        this.#blocks.set(index, { kind: "text", tool: -1, args: false });
        return part.text === "" ? "" : this.#chunk({ content: part.text });
      case "reasoning":
        this.#blocks.set(index, { kind: "reasoning", tool: -1, args: false });
        return part.text === "" ? "" : this.#chunk({ reasoning_content: part.text });
      case "tool_call": {
        const tool = this.#nextTool++;
        this.#blocks.set(index, { kind: "tool", tool, args: part.arguments !== "" });
        return this.#chunk({ tool_calls: [encodeToolCall(part, tool)] });
      }
      default:
        // Images, documents and tool results are not parts of an answer.
        return "";
    }
  }

  #role(): string {
    if (this.#roleSent) return "";
    this.#roleSent = true;
    return this.#chunk({ role: "assistant", content: "" });
  }

  #chunk(delta: Json, finishReason: string | null = null): string {
    return this.#frame([{ index: 0, delta, logprobs: null, finish_reason: finishReason }]);
  }

  #frame(choices: Json[], usage?: Json): string {
    const chunk: Json = { id: this.#id, object: "chat.completion.chunk", created: this.#created, model: this.#model, choices };
    if (usage) chunk.usage = usage;
    return encodeSse({ data: JSON.stringify(chunk) });
  }
}
