/** Features a codec could not carry, each feature once (its first reason), in the order met. */
import type { IrDrop, IrEvent } from "./ir.ts";

export class Drops {
  readonly list: IrDrop[] = [];
  readonly #seen = new Set<string>();

  /** Records the drop; true when the feature is new (a stream decoder then announces it). */
  add(feature: string, reason: string): boolean {
    if (this.#seen.has(feature)) return false;
    this.#seen.add(feature);
    this.list.push({ feature, reason });
    return true;
  }

  /** Records the drop and, the first time, appends the stream event that announces it. */
  announce(out: IrEvent[], feature: string, reason: string): void {
    if (this.add(feature, reason)) out.push({ type: "dropped", drop: { feature, reason } });
  }
}

/** The same rule over a plain list (codecs that keep their drops in the IR's own array). */
export function addDrop(drops: IrDrop[], feature: string, reason: string): void {
  if (!drops.some((d) => d.feature === feature)) drops.push({ feature, reason });
}
