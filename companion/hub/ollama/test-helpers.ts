/** Test-only helpers: fixture loading (node:fs is fine here, the codec itself stays web-standard). */
import { readFileSync } from "node:fs";

export function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
}

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fixtureText(name)) as Record<string, unknown>;
}

/** The value of an ok Result, or a thrown error naming the failure (tests only). */
export function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(`expected ok, got error: ${result.error.message}`);
  return result.value;
}

export const GENERATED_ID = /^call_\d+_[0-9A-Za-z]{8}$/;
