/**
 * IR events → Gemini stream, as SSE (`data: {GenerateContentResponse}` events, what
 * `?alt=sse` and @google/genai get) or as the JSON array streamGenerateContent sends without
 * it (`[{…},\r\n{…}]`).
 *
 * One chunk per delta: each holds a candidate with the new part(s), and usageMetadata (running
 * totals) once usage is known. A function call goes out whole at its block_stop, since Gemini's
 * args are an object, not text fragments. The last chunk carries finishReason — without it
 * @google/genai's stream continuation and Gemini CLI (NO_FINISH_REASON) treat the answer as
 * cut off and ask again. An IR error becomes `{"error":{code,message,status}}`, the chunk
 * Gemini itself sends and @google/genai turns into an ApiError (throwIfStreamErrorChunk).
 */
import { encodeSse } from "../../../shared/sse.ts";
import type { EncodeContext, StreamEncoder } from "../codec.ts";
import type { IrEvent, IrUsage } from "../ir.ts";
import { argsObject, mediaPart } from "./parts.ts";
import { errorToWire, type Json, stopReasonToWire, usageToWire } from "./wire.ts";

export interface GeminiStreamContext extends EncodeContext {
  includeUsage?: boolean;
  /** SSE (`?alt=sse`, the default) or the JSON-array stream. */
  sse?: boolean;
}

type Block =
  | { kind: "text" }
  | { kind: "reasoning"; signature: string | undefined }
  | { kind: "tool"; id: string; name: string; args: string; signature: string | undefined }
  | { kind: "other" };

export class GeminiStreamEncoder implements StreamEncoder {
  readonly #ctx: GeminiStreamContext;
  readonly #sse: boolean;
  #chunks = 0;
  #closed = false;
  #ended = false;
  readonly #blocks = new Map<number, Block>();
  /** A signature from a text-less reasoning block, waiting for the text part it belongs to. */
  #carrier: string | undefined;
  #usage: IrUsage | undefined;

  constructor(ctx: GeminiStreamContext) {
    this.#ctx = ctx;
    this.#sse = ctx.sse ?? true;
  }

  push(event: IrEvent): string {
    if (this.#closed) return "";
    switch (event.type) {
      case "dropped":
        return "";
      case "start":
      case "usage":
        if (event.usage) this.#usage = { ...this.#usage, ...event.usage };
        return "";
      case "block_start": {
        const part = event.part;
        switch (part.type) {
          case "text":
            this.#blocks.set(event.index, { kind: "text" });
            return part.text === "" ? "" : this.#text(part.text);
          case "reasoning": {
            const block: Block = { kind: "reasoning", signature: part.thoughtSignature };
            this.#blocks.set(event.index, block);
            return part.text === "" ? "" : this.#thought(block, part.text);
          }
          case "tool_call":
            this.#blocks.set(event.index, { kind: "tool", id: part.id, name: part.name, args: part.arguments, signature: part.thoughtSignature });
            return "";
          case "image":
          case "document":
            this.#blocks.set(event.index, { kind: "other" });
            return this.#flushCarrier() + this.#chunk([mediaPart(part.source)]);
          default:
            this.#blocks.set(event.index, { kind: "other" });
            return "";
        }
      }
      case "text_delta":
        return event.text === "" ? "" : this.#text(event.text);
      case "reasoning_delta": {
        const block = this.#blocks.get(event.index);
        // An Anthropic `signature` delta has no Gemini equivalent.
        if (block?.kind !== "reasoning" || !event.text) return "";
        return this.#thought(block, event.text);
      }
      case "tool_arguments_delta": {
        const block = this.#blocks.get(event.index);
        if (block?.kind === "tool") block.args += event.json;
        return "";
      }
      case "block_stop": {
        const block = this.#blocks.get(event.index);
        this.#blocks.delete(event.index);
        if (block?.kind === "tool") return this.#call(block);
        if (block?.kind === "reasoning" && block.signature !== undefined) {
          // No thought text came: a signature carrier for the next part.
          const out = this.#flushCarrier();
          this.#carrier = block.signature;
          return out;
        }
        return "";
      }
      case "finish": {
        let out = this.#flushCalls();
        if (event.usage) this.#usage = { ...this.#usage, ...event.usage };
        const parts: Json[] = this.#carrier === undefined ? [] : [{ text: "", thoughtSignature: this.#carrier }];
        this.#carrier = undefined;
        out += this.#chunk(parts, stopReasonToWire(event.stopReason));
        this.#closed = true;
        return out;
      }
      case "error":
        this.#closed = true;
        return this.#frame(errorToWire(event.status, event.message));
    }
  }

  end(): string {
    if (this.#ended) return "";
    this.#ended = true;
    let out = "";
    if (!this.#closed) {
      this.#closed = true;
      out += this.#flushCalls() + this.#flushCarrier();
    }
    if (!this.#sse) out += this.#chunks === 0 ? "[]" : "\n]";
    return out;
  }

  #text(text: string): string {
    const part: Json = { text };
    if (this.#carrier !== undefined) part.thoughtSignature = this.#carrier;
    this.#carrier = undefined;
    return this.#chunk([part]);
  }

  #thought(block: { signature: string | undefined }, text: string): string {
    const out = this.#flushCarrier();
    const part: Json = { text, thought: true };
    if (block.signature !== undefined) part.thoughtSignature = block.signature;
    block.signature = undefined;
    return out + this.#chunk([part]);
  }

  #call(block: { id: string; name: string; args: string; signature: string | undefined }): string {
    const part: Json = { functionCall: { id: block.id, name: block.name, args: argsObject(block.args) } };
    if (block.signature !== undefined) part.thoughtSignature = block.signature;
    return this.#flushCarrier() + this.#chunk([part]);
  }

  /** Tool calls whose block never stopped (the stream was cut): they still go out whole. */
  #flushCalls(): string {
    let out = "";
    for (const [index, block] of this.#blocks) {
      if (block.kind === "tool") {
        this.#blocks.delete(index);
        out += this.#call(block);
      }
    }
    return out;
  }

  #flushCarrier(): string {
    if (this.#carrier === undefined) return "";
    const part = { text: "", thoughtSignature: this.#carrier };
    this.#carrier = undefined;
    return this.#chunk([part]);
  }

  #chunk(parts: Json[], finishReason?: string): string {
    const candidate: Json = {};
    if (parts.length > 0) candidate.content = { role: "model", parts };
    if (finishReason !== undefined) candidate.finishReason = finishReason;
    candidate.index = 0;
    const body: Json = { candidates: [candidate] };
    const usage = usageToWire(this.#usage);
    if (usage) body.usageMetadata = usage;
    body.modelVersion = this.#ctx.model;
    body.responseId = this.#ctx.id;
    return this.#frame(body);
  }

  #frame(body: Json): string {
    const json = JSON.stringify(body);
    if (this.#sse) return encodeSse({ data: json });
    return `${this.#chunks++ === 0 ? "[" : ",\r\n"}${json}`;
  }
}
