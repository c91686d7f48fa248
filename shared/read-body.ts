/**
 * Reads a request body whole, refusing past `maxBytes` without reading the rest (a declared
 * content-length over the limit is refused before any byte is read).
 */
import { err, ok, type Result } from "./result.ts";

export async function readLimited(request: Request, maxBytes: number): Promise<Result<Uint8Array | null, "too_large">> {
  if (!request.body) return ok(null);
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) return err("too_large");
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return err("too_large");
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return ok(chunks[0]!);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return ok(out);
}
