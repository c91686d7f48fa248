/**
 * Reasoning that a target needs back survives a client that cannot carry it: an Anthropic
 * thinking block with its signature, answered to an OpenAI chat client (which has no field
 * for the signature), comes back to Anthropic on the next turn, before the tool call.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";

const KEY = projectKey();
let chain: Chain;

beforeAll(async () => {
  chain = await startChain({
    pools: { anthropic: { type: "anthropic", prefix: "/ant" } },
    companion: () => ({
      edgePools: { anthropic: { dialect: "anthropic" } },
      models: { thinker: ["edge:anthropic/claude-sonnet-4-5-20250929"] },
      projects: [{ id: "r", keys: [KEY] }],
    }),
  });
});

afterAll(async () => {
  await chain?.close();
});

it("puts the thinking block and its signature back before the tool call on the next turn", async () => {
  chain.up.once("/ant", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "msg_01",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5-20250929",
        content: [
          { type: "thinking", thinking: "I should look the weather up.", signature: "sig-abc-123" },
          { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 20, output_tokens: 10 },
      }),
    );
  });
  chain.up.once("/ant", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "msg_02",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5-20250929",
        content: [{ type: "text", text: "It is sunny in Paris." }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 40, output_tokens: 8 },
      }),
    );
  });
  const client = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
  const first = await client.chat.completions.create({ model: "thinker", tools, messages: [{ role: "user", content: "Weather in Paris?" }] });
  const call = first.choices[0]!.message.tool_calls![0]!;
  expect(call.id).toBe("toolu_01");

  // The client sends back only what its dialect has: the call, not the signature.
  const second = await client.chat.completions.create({
    model: "thinker",
    tools,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: call.id, content: "sunny" },
    ],
  });
  expect(second.choices[0]!.message.content).toBe("It is sunny in Paris.");

  const sent = JSON.parse(chain.up.hits("/ant").at(-1)!.body.toString());
  const assistant = sent.messages.find((m: { role: string }) => m.role === "assistant");
  expect(assistant.content[0]).toEqual({ type: "thinking", thinking: "I should look the weather up.", signature: "sig-abc-123" });
  expect(assistant.content[1]).toMatchObject({ type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } });
});
