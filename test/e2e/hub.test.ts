/**
 * The dialect hub end to end: every client dialect, driven by its official SDK
 * (@anthropic-ai/sdk, openai for Chat and Responses, @google/genai, ollama-js), against every
 * target dialect, through the companion, the tunnel and the worker in workerd (or the
 * stand-in Ollama), plain and streamed.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectKey, type Chain } from "../helpers/companion.ts";
import { startHubChain } from "../helpers/hub-chain.ts";
import { defaultChatReply, textStream } from "../helpers/ollama.ts";
import { DEFAULT_TEXT, mocks } from "../helpers/provider-mocks.ts";

const KEY = projectKey();
let chain: Chain;

const TARGETS = {
  anthropic: "to-anthropic",
  "openai-chat": "to-openai",
  "openai-responses": "to-responses",
  gemini: "to-gemini",
  ollama: "to-ollama",
} as const;

beforeAll(async () => {
  chain = await startHubChain(KEY, TARGETS, "hub");
  chain.up.on("/ant", mocks.anthropicMessages());
  chain.up.on("/oai", mocks.openai());
  chain.up.on("/rsp", mocks.openai());
  chain.up.on("/gem", mocks.geminiGenerate());
  chain.ollama.chatStream = textStream("qwen-target", ["Hello from ", "the stand-in"]);
  chain.ollama.chatReply = { ...defaultChatReply("qwen-target"), message: { role: "assistant", content: DEFAULT_TEXT } };
});

afterAll(async () => {
  await chain?.close();
});

type Client = { plain(model: string): Promise<string>; stream(model: string): Promise<string> };

const clients: Record<string, () => Client> = {
  anthropic: () => {
    const c = new Anthropic({ baseURL: chain.url, apiKey: KEY, maxRetries: 0 });
    const params = (model: string) => ({ model, max_tokens: 64, system: "be brief", messages: [{ role: "user" as const, content: "hi" }] });
    return {
      plain: async (model) => (await c.messages.create(params(model))).content.map((b) => (b.type === "text" ? b.text : "")).join(""),
      stream: async (model) => (await c.messages.stream(params(model)).finalMessage()).content.map((b) => (b.type === "text" ? b.text : "")).join(""),
    };
  },
  "openai-chat": () => {
    const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const messages = [{ role: "system" as const, content: "be brief" }, { role: "user" as const, content: "hi" }];
    return {
      plain: async (model) => (await c.chat.completions.create({ model, messages })).choices[0]!.message.content ?? "",
      stream: async (model) => (await c.chat.completions.stream({ model, messages }).finalChatCompletion()).choices[0]!.message.content ?? "",
    };
  },
  "openai-responses": () => {
    const c = new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
    return {
      plain: async (model) => (await c.responses.create({ model, instructions: "be brief", input: "hi" })).output_text,
      stream: async (model) => (await c.responses.stream({ model, instructions: "be brief", input: "hi" }).finalResponse()).output_text,
    };
  },
  gemini: () => {
    const c = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: chain.url } });
    const config = { systemInstruction: "be brief" };
    return {
      plain: async (model) => (await c.models.generateContent({ model, contents: "hi", config })).text ?? "",
      stream: async (model) => {
        let text = "";
        for await (const chunk of await c.models.generateContentStream({ model, contents: "hi", config })) text += chunk.text ?? "";
        return text;
      },
    };
  },
  ollama: () => {
    const c = new Ollama({ host: chain.url, headers: { authorization: `Bearer ${KEY}` } });
    const messages = [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }];
    return {
      plain: async (model) => (await c.chat({ model, messages, stream: false, keep_alive: "10m" })).message.content,
      stream: async (model) => {
        let text = "";
        let done = false;
        for await (const part of await c.chat({ model, messages, stream: true, keep_alive: "10m" })) {
          text += part.message.content;
          done = part.done;
        }
        expect(done).toBe(true);
        return text;
      },
    };
  },
};

describe.each(Object.keys(clients))("client dialect %s", (clientName) => {
  for (const [targetName, model] of Object.entries(TARGETS)) {
    it(`gets a plain answer from a ${targetName} target`, async () => {
      expect(await clients[clientName]!().plain(model)).toBe(DEFAULT_TEXT);
    });
    it(`gets a streamed answer from a ${targetName} target`, async () => {
      expect(await clients[clientName]!().stream(model)).toBe(DEFAULT_TEXT);
    });
  }
});

describe("what the targets received", () => {
  it("gave each target its own dialect, with the routed model and the system prompt carried", () => {
    const ant = chain.up.hits("/ant").map((r) => JSON.parse(r.body.toString()));
    expect(ant.length).toBe(10); // 5 clients × plain + stream
    for (const body of ant) {
      expect(body.model).toBe("claude-target");
      expect(body.max_tokens).toBeGreaterThan(0);
      expect(JSON.stringify(body.system)).toContain("be brief");
    }
    const oai = chain.up.hits("/oai");
    expect(oai.length).toBe(10);
    for (const rec of oai) {
      expect(rec.url).toBe("/oai/v1/chat/completions");
      const body = JSON.parse(rec.body.toString());
      expect(body.model).toBe("gpt-target");
      expect(body.messages[0]).toMatchObject({ role: "system" });
    }
    const rsp = chain.up.hits("/rsp");
    expect(rsp.length).toBe(10);
    for (const rec of rsp) {
      expect(rec.url).toBe("/rsp/v1/responses");
      const body = JSON.parse(rec.body.toString());
      expect(body.model).toBe("gpt-resp-target");
      expect(body.instructions).toBe("be brief");
      if (body.input === "hi") continue; // the Responses client's own request, passed through
      // Translated: nothing kept at OpenAI, reasoning asked back for the next turn.
      expect(body.store).toBe(false);
      expect(body.input).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }]);
    }
    expect(rsp.filter((r) => JSON.parse(r.body.toString()).store === false)).toHaveLength(8);
    const gem = chain.up.hits("/gem");
    expect(gem.length).toBe(10);
    for (const rec of gem) {
      expect(rec.url).toMatch(/^\/gem\/v1beta\/models\/gemini-target:(generateContent|streamGenerateContent\?alt=sse)$/);
      expect(JSON.stringify(JSON.parse(rec.body.toString()).systemInstruction)).toContain("be brief");
    }
    const local = chain.ollama.requests.filter((r) => r.path === "/api/chat");
    expect(local.length).toBe(10);
    for (const rec of local) expect(rec.body).toMatchObject({ model: "qwen-target", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }] });
    // The Ollama client's own two calls reach Ollama as ollama-js wrote them, only the model renamed.
    // (keep_alive has no IR form: the hub would drop it, so it marks the requests that bypassed the hub.)
    const asSent = local.filter((r) => (r.body as { keep_alive?: unknown }).keep_alive !== undefined).map((r) => r.body);
    const sent = (stream: boolean) => ({ model: "qwen-target", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }], stream, keep_alive: "10m" });
    expect(asSent).toEqual([sent(false), sent(true)]);
  });
});

describe("features a target cannot express", () => {
  const send = () =>
    fetch(`${chain.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "to-anthropic", logit_bias: { "50256": -100 }, messages: [{ role: "user", content: "hi" }] }),
    });

  it("drops them and says so in x-ferry-dropped", async () => {
    const res = await send();
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ferry-dropped")).toContain("request.logit_bias");
    expect((await res.json()).choices[0].message.content).toBe(DEFAULT_TEXT);
  });

  it("refuses them with a 400 in the client's dialect when the office says so", async () => {
    chain.companion.swap({ ...chain.config, hub: { refuseDrops: ["request.logit_bias"] } });
    try {
      const res = await send();
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe("unsupported");
      expect(body.error.message).toContain("request.logit_bias");
    } finally {
      chain.companion.swap(chain.config);
    }
  });
});
