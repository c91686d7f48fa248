import { afterAll, beforeAll, expect, it } from "vitest";
import { fakeKey, randomSecret, signedFetch, startEdge, type Edge } from "../helpers/edge.ts";
import { behaviours, startUpstream, type Upstream } from "../helpers/upstream.ts";

let edge: Edge;
let up: Upstream;
const signer = { companionId: "office", secret: randomSecret() };
beforeAll(async () => {
  up = await startUpstream();
  edge = await startEdge({
    pools: { openai: { type: "openai", baseUrl: up.url + "/m1", members: [{ id: "a", key: fakeKey() }] } },
    companions: [{ id: "office", secret: signer.secret, pools: ["*"] }],
  });
});
afterAll(async () => {
  await edge?.close();
  await up?.close();
});
it("smoke", async () => {
  up.on("/m1", behaviours.json(200, { ok: 1 }));
  const res = await signedFetch(edge.url, signer, "/proxy/openai/v1/chat/completions", { body: JSON.stringify({ model: "gpt" }) });
  console.log(res.status, Object.fromEntries(res.headers), await res.text());
  console.log(up.requests.map((r) => [r.url, r.headers]));
  expect(res.status).toBe(200);
});
