/**
 * `npm run edge:call -- METHOD PATH [JSON]`: one signed request to the edge that `npm start`
 * is running (URL from .cache/ferry-dev/edge.json), streaming the answer to stdout.
 * FERRY_EDGE_URL, FERRY_COMPANION_ID and FERRY_COMPANION_SECRET override the dev values.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { signRequest } from "../shared/signing.ts";

const devDir = join(resolve(import.meta.dirname, ".."), ".cache", "ferry-dev");
const [method = "GET", path = "/admin/pools", json] = process.argv.slice(2);
const dev = (() => {
  try {
    return JSON.parse(readFileSync(join(devDir, "edge.json"), "utf8")) as { url: string; companionId: string };
  } catch {
    return undefined;
  }
})();
const url = process.env.FERRY_EDGE_URL ?? dev?.url;
const companionId = process.env.FERRY_COMPANION_ID ?? dev?.companionId ?? "office";
const secret = process.env.FERRY_COMPANION_SECRET ?? readFileSync(join(devDir, "companion-secret"), "utf8").trim();
if (!url) {
  console.error("no edge URL: run `npm start` first, or set FERRY_EDGE_URL");
  process.exit(2);
}
const body = json === undefined ? null : new TextEncoder().encode(json);
const headers = await signRequest({ companionId, secret, method: method.toUpperCase(), pathAndQuery: path, body });
const res = await fetch(url + path, {
  method: method.toUpperCase(),
  headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) },
  body,
});
console.error(`${res.status} ${res.statusText}  member=${res.headers.get("x-ferry-member") ?? "-"} attempts=${res.headers.get("x-ferry-attempts") ?? "-"}`);
for await (const chunk of res.body ?? []) process.stdout.write(chunk);
process.stdout.write("\n");
