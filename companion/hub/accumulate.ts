/** Builds the whole IrResponse a stream of IR events describes (for caches and tests). */
import type { IrEvent, IrPart, IrResponse } from "./ir.ts";

export class IrAccumulator {
  private readonly blocks = new Map<number, IrPart>();
  private response: IrResponse = { id: "", model: "", content: [], stopReason: "other", usage: {} };

  push(event: IrEvent): void {
    switch (event.type) {
      case "start":
        this.response.id = event.id;
        this.response.model = event.model;
        if (event.usage) this.response.usage = { ...this.response.usage, ...event.usage };
        return;
      case "block_start":
        this.blocks.set(event.index, structuredClone(event.part));
        return;
      case "text_delta": {
        const part = this.blocks.get(event.index);
        if (part?.type === "text") part.text += event.text;
        return;
      }
      case "reasoning_delta": {
        const part = this.blocks.get(event.index);
        if (part?.type !== "reasoning") return;
        if (event.text) part.text += event.text;
        if (event.signature) part.signature = (part.signature ?? "") + event.signature;
        return;
      }
      case "tool_arguments_delta": {
        const part = this.blocks.get(event.index);
        if (part?.type === "tool_call") part.arguments += event.json;
        return;
      }
      case "block_stop":
        return;
      case "usage":
        this.response.usage = { ...this.response.usage, ...event.usage };
        return;
      case "finish":
        this.response.stopReason = event.stopReason;
        if (event.stopSequence !== undefined) this.response.stopSequence = event.stopSequence;
        if (event.usage) this.response.usage = { ...this.response.usage, ...event.usage };
        return;
      case "error":
        this.response.stopReason = "error";
        return;
    }
  }

  result(): IrResponse {
    const content = [...this.blocks.entries()].sort(([a], [b]) => a - b).map(([, part]) => part);
    return { ...this.response, content };
  }
}
