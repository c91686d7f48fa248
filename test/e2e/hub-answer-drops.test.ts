/**
 * What a target *answers* that the client's dialect cannot hold (issue 6, "nothing is silently
 * dropped"): an Anthropic web-search answer (server_tool_use and web_search_tool_result blocks,
 * text with citations, as in the web search tool docs) reaching an OpenAI chat client, and a
 * Responses answer with a web_search_call item reaching an Anthropic client. Plain answers name
 * the drops in x-ferry-dropped and the audit record; streamed ones in the audit record (the head
 * is gone when they are met); `hub.refuseDrops` turns them into an error in the client's dialect.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SqliteAuditLog } from "../../companion/audit/sqlite-audit.ts";
import type { AuditRecord } from "../../companion/audit/types.ts";
import { projectKey, startChain, type Chain } from "../helpers/companion.ts";
import { sseFrame, streamFrames } from "../helpers/provider-mocks.ts";
import type { Behaviour, Recorded } from "../helpers/upstream.ts";

const KEY = projectKey();
let chain: Chain;

beforeAll(async () => {
  chain = await startChain({
    pools: {
      anthropic: { type: "anthropic", prefix: "/ant" },
      responses: { type: "openai", prefix: "/rsp" },
    },
    companion: () => ({
      edgePools: { anthropic: { dialect: "anthropic" }, responses: { dialect: "openai", responsesApi: true, chatApi: false } },
      models: { "search-claude": ["edge:anthropic/claude-target"], "search-gpt": ["edge:responses/gpt-target"] },
      projects: [{ id: "drops", keys: [KEY] }],
    }),
  });
});

afterAll(async () => {
  await chain?.close();
});

beforeEach(() => {
  chain.up.reset();
  chain.companion.swap(chain.config);
});

const ANSWER = "Claude Shannon was born on April 30, 1916, in Petoskey, Michigan.";
const CITATION = {
  type: "web_search_result_location",
  url: "https://en.wikipedia.org/wiki/Claude_Shannon",
  title: "Claude Shannon - Wikipedia",
  encrypted_index: "Eo8BCioIAhgBIiQyYjQ0OWJmZi1lNm",
  cited_text: "Claude Elwood Shannon (April 30, 1916 – February 24, 2001) was an American mathematician",
};
const usage = { input_tokens: 6039, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 931, server_tool_use: { web_search_requests: 1 } };

/** The Messages API answer with the web search tool (docs: "Web search tool" → response). */
const searchMessage = {
  id: "msg_01WebSearchAnswer000001",
  type: "message",
  role: "assistant",
  model: "claude-target",
  content: [
    { type: "text", text: "I'll search for when Claude Shannon was born." },
    { type: "server_tool_use", id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE", name: "web_search", input: { query: "claude shannon birth date" } },
    {
      type: "web_search_tool_result",
      tool_use_id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
      content: [{ type: "web_search_result", url: CITATION.url, title: CITATION.title, encrypted_content: "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y", page_age: "April 30, 2025" }],
    },
    { type: "text", text: ANSWER, citations: [CITATION] },
  ],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage,
};

const ant = (type: string, body: Record<string, unknown> = {}) => sseFrame(type, { type, ...body });

/** The same answer streamed: the server tool's blocks, then text whose citation comes as citations_delta. */
const searchFrames = [
  ant("message_start", { message: { ...searchMessage, content: [], stop_reason: null, usage: { ...usage, output_tokens: 3 } } }),
  ant("content_block_start", { index: 0, content_block: { type: "server_tool_use", id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE", name: "web_search", input: {} } }),
  ant("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: '{"query": "claude shannon birth date"}' } }),
  ant("content_block_stop", { index: 0 }),
  ant("content_block_start", { index: 1, content_block: searchMessage.content[2] }),
  ant("content_block_stop", { index: 1 }),
  ant("content_block_start", { index: 2, content_block: { type: "text", text: "" } }),
  ant("content_block_delta", { index: 2, delta: { type: "citations_delta", citation: CITATION } }),
  ant("content_block_delta", { index: 2, delta: { type: "text_delta", text: ANSWER } }),
  ant("content_block_stop", { index: 2 }),
  ant("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 931 } }),
  ant("message_stop"),
];

const bodyOf = (rec: Recorded) => JSON.parse(rec.body.toString("utf8")) as Record<string, unknown>;
const plainOrStream =
  (plain: unknown, frames: string[]): Behaviour =>
  async (req, res, rec) => {
    if (bodyOf(rec).stream === true) return streamFrames(frames)(req, res, rec);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(plain));
  };

/** The audit record is written once the answer has been passed on: wait for it to appear. */
async function auditRecord(requestId: string): Promise<AuditRecord> {
  const audit = new SqliteAuditLog(chain.config.audit.path);
  try {
    for (;;) {
      const record = audit.byId(requestId);
      if (record && record.status !== 0) return record;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    audit.close();
  }
}

const chatClient = () => new OpenAI({ baseURL: `${chain.url}/v1`, apiKey: KEY, maxRetries: 0 });
const messages = [{ role: "user" as const, content: "When was Claude Shannon born?" }];

describe("Anthropic web-search answer → OpenAI chat client", () => {
  it("plain: the text arrives; the server-tool blocks and citations are named in x-ferry-dropped and the audit", async () => {
    chain.up.on("/ant", plainOrStream(searchMessage, searchFrames));
    const { data, response } = await chatClient().chat.completions.create({ model: "search-claude", messages }).withResponse();
    expect(data.choices[0]!.message.content).toBe(`I'll search for when Claude Shannon was born.${ANSWER}`);
    const header = response.headers.get("x-ferry-dropped")!.split(", ");
    expect(header).toEqual(expect.arrayContaining(["response.block.server_tool_use", "response.block.web_search_tool_result", "response.citations"]));
    const record = await auditRecord(response.headers.get("x-ferry-request-id")!);
    expect(record.removed).toEqual(expect.arrayContaining(["dropped:response.block.server_tool_use", "dropped:response.block.web_search_tool_result", "dropped:response.citations"]));
    expect(record.outputTokens).toBe(931);
  });

  it("streamed: the text arrives; the drops met on the way are in the audit record", async () => {
    chain.up.on("/ant", plainOrStream(searchMessage, searchFrames));
    const { data: stream, response } = await chatClient().chat.completions.create({ model: "search-claude", messages, stream: true }).withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(ANSWER);
    expect(response.headers.get("x-ferry-dropped")).toBeNull();
    const record = await auditRecord(response.headers.get("x-ferry-request-id")!);
    expect(record.removed).toEqual(expect.arrayContaining(["dropped:response.block.server_tool_use", "dropped:response.block.web_search_tool_result", "dropped:response.citations"]));
    expect(record.status).toBe(200);
  });

  it("refused by the office: a plain answer becomes a 502 in OpenAI's shape naming the feature, and the tokens are still counted", async () => {
    chain.companion.swap({ ...chain.config, hub: { refuseDrops: ["response.citations"] } });
    chain.up.on("/ant", plainOrStream(searchMessage, searchFrames));
    const res = await fetch(`${chain.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "search-claude", messages }),
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unsupported");
    expect(body.error.message).toContain("response.citations");
    const record = await auditRecord(res.headers.get("x-ferry-request-id")!);
    expect(record.status).toBe(502);
    expect(record.outputTokens).toBe(931);
  });

  it("refused by the office: a streamed answer ends with the client's own error event where the drop was met", async () => {
    chain.companion.swap({ ...chain.config, hub: { refuseDrops: ["response.block.*"] } });
    chain.up.on("/ant", plainOrStream(searchMessage, searchFrames));
    const stream = await chatClient().chat.completions.create({ model: "search-claude", messages, stream: true });
    let text = "";
    let caught: unknown;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(OpenAI.APIError);
    expect((caught as Error).message).toContain("response.block.server_tool_use");
    expect(text).toBe("");
  });
});

describe("Responses answer with a hosted web_search_call → Anthropic client", () => {
  const response = {
    id: "resp_67ccf18ef5fc8190b16dbee19bc54e5f087bb177ab789d5c",
    object: "response",
    created_at: 1741484430,
    status: "completed",
    model: "gpt-target",
    output: [
      { type: "web_search_call", id: "ws_67ccf18f64008190a39b619f4c8455ef087bb177ab789d5c", status: "completed", action: { type: "search", query: "positive news today" } },
      {
        type: "message",
        id: "msg_67ccf190ca3881909d433c50b1f6357e087bb177ab789d5c",
        status: "completed",
        role: "assistant",
        content: [
          {
            type: "output_text",
            text: "As of today, a new solar farm came online.",
            annotations: [{ type: "url_citation", start_index: 0, end_index: 41, url: "https://example.org/solar", title: "Solar farm" }],
          },
        ],
      },
    ],
    usage: { input_tokens: 328, input_tokens_details: { cached_tokens: 0 }, output_tokens: 356, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 684 },
  };

  it("plain: the message text arrives; the hosted call and the annotations are announced", async () => {
    chain.up.on("/rsp", async (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(response));
    });
    const c = new Anthropic({ baseURL: chain.url, apiKey: KEY, maxRetries: 0 });
    const { data, response: raw } = await c.messages.create({ model: "search-gpt", max_tokens: 256, messages: [{ role: "user", content: "good news?" }] }).withResponse();
    expect(data.content).toEqual([{ type: "text", text: "As of today, a new solar farm came online." }]);
    expect(raw.headers.get("x-ferry-dropped")!.split(", ")).toEqual(expect.arrayContaining(["response.item.web_search_call", "response.annotations"]));
    expect(chain.up.hits("/rsp")[0]!.url).toBe("/rsp/v1/responses");
  });
});
