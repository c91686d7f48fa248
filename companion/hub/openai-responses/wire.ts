/**
 * Small readers for untrusted Responses API JSON, the drop list, data URLs and item ids.
 * Readers never throw: a wrong type reads as `undefined`, and callers decide whether that is a
 * bad request or an absent field.
 */
import type { IrDrop, IrImageSource } from "../ir.ts";

export type Json = Record<string, unknown>;

export function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function arr(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

import { Drops } from "../drops.ts";
export { Drops };

/** Hosted-tool and other output items the IR has no form for (web_search_call, image_generation_call…). */
export const itemDropped = (type: unknown): [string, string] => [`response.item.${String(type)}`, `the answer's ${String(type)} item has no equivalent in the hub; it was left out`];
export const ANNOTATIONS_DROPPED: [string, string] = ["response.annotations", "the IR has no citations: the text is kept, its annotations are not"];

/** A request the codec refuses: carried out of deep helpers and turned into a HubError once. */
export class Refusal {
  readonly code: "bad_request" | "unsupported";
  readonly message: string;
  constructor(code: "bad_request" | "unsupported", message: string) {
    this.code = code;
    this.message = message;
  }
}

/**
 * `data:<type>[;base64],<data>` (RFC 2397) → a base64 image/document source; any other URL is
 * kept as a URL. The Responses API takes images as "a fully qualified URL or base64 encoded
 * image in a data URL" (openai-node ResponseInputImage.image_url).
 */
export function sourceFromUrl(url: string): IrImageSource {
  if (!url.startsWith("data:")) return { kind: "url", url };
  const comma = url.indexOf(",");
  if (comma === -1) return { kind: "url", url };
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const params = meta.split(";");
  const mediaType = params[0] || "text/plain";
  if (params.includes("base64")) return { kind: "base64", mediaType, data: payload };
  // Percent-encoded payload (rare for images): re-encode as base64 so every source kind agrees.
  let text: string;
  try {
    text = decodeURIComponent(payload);
  } catch {
    text = payload;
  }
  return { kind: "base64", mediaType, data: bytesToBase64(new TextEncoder().encode(text)) };
}

export function dataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const EXTENSION_TYPES: Record<string, string> = {
  pdf: "application/pdf",
  txt: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  json: "application/json",
  html: "text/html",
};

/** The media type a bare-base64 `file_data` most likely has, from its `filename`. */
export function mediaTypeOfFilename(filename: string | undefined): string {
  const dot = filename?.lastIndexOf(".") ?? -1;
  const ext = dot >= 0 ? filename!.slice(dot + 1).toLowerCase() : "";
  return EXTENSION_TYPES[ext] ?? "application/pdf";
}

/** Output item ids the encoders make: `<prefix>_<answer id without resp_>_<n>`, stable for a given answer id. */
export function itemId(prefix: "msg" | "fc" | "rs", answerId: string, n: number): string {
  const base = answerId.startsWith("resp_") ? answerId.slice(5) : answerId;
  return `${prefix}_${base}_${n}`;
}
