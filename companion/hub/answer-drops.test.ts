/**
 * Every target decoder names what an answer held that the IR cannot (IrResponse.dropped for
 * whole answers, `dropped` events for streams), each feature once, and still passes on the rest.
 */
import { describe, expect, it } from "vitest";
import type { HubDialect } from "./codec.ts";
import type { IrEvent } from "./ir.ts";
import { CODECS } from "./registry.ts";

function decodeWhole(dialect: HubDialect, body: unknown) {
  const result = CODECS[dialect].decodeResponse(body);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

function decodeStream(dialect: HubDialect, wire: string): IrEvent[] {
  const decoder = CODECS[dialect].streamDecoder();
  return [...decoder.push(wire), ...decoder.end()];
}

const features = (events: IrEvent[]) => events.flatMap((e) => (e.type === "dropped" ? [e.drop.feature] : []));
const text = (events: IrEvent[]) => events.flatMap((e) => (e.type === "text_delta" ? [e.text] : [])).join("");
const sse = (data: unknown[], named = false) => data.map((d) => `${named ? `event: ${(d as { type: string }).type}\n` : ""}data: ${JSON.stringify(d)}\n\n`).join("");

describe("OpenAI chat answers", () => {
  const message = {
    role: "assistant",
    content: "Sunny, per the forecast.",
    refusal: null,
    annotations: [{ type: "url_citation", url_citation: { start_index: 0, end_index: 5, url: "https://example.org/w", title: "Weather" } }],
    audio: { id: "audio_1", data: "UklGRg==", expires_at: 1, transcript: "Sunny" },
  };
  const completion = (choices: unknown[]) => ({ id: "chatcmpl-1", object: "chat.completion", created: 1, model: "gpt-x", choices, usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });

  it("whole: annotations, audio and extra choices are named; the text stays", () => {
    const ir = decodeWhole("openai-chat", completion([{ index: 0, message, finish_reason: "stop" }, { index: 1, message, finish_reason: "stop" }]));
    expect(ir.content).toEqual([{ type: "text", text: "Sunny, per the forecast." }]);
    expect(ir.dropped?.map((d) => d.feature)).toEqual(["response.annotations", "response.audio", "response.choices"]);
  });

  it("whole: a plain answer drops nothing", () => {
    expect(decodeWhole("openai-chat", completion([{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }])).dropped).toBeUndefined();
  });

  it("streamed: annotations in a delta are announced once", () => {
    const chunk = (delta: unknown, finish_reason: string | null = null) => ({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason }] });
    const events = decodeStream(
      "openai-chat",
      sse([chunk({ role: "assistant", content: "Sun" }), chunk({ content: "ny", annotations: message.annotations }), chunk({ annotations: message.annotations }), chunk({}, "stop")]) + "data: [DONE]\n\n",
    );
    expect(features(events)).toEqual(["response.annotations"]);
    expect(text(events)).toBe("Sunny");
  });
});

describe("OpenAI Responses answers", () => {
  const output = [
    { type: "web_search_call", id: "ws_1", status: "completed" },
    { type: "message", id: "msg_1", status: "completed", role: "assistant", content: [{ type: "output_text", text: "Found it.", annotations: [{ type: "url_citation", url: "https://example.org" }] }] },
    { type: "image_generation_call", id: "ig_1", status: "completed", result: "iVBORw0KGgo=" },
  ];

  it("whole: hosted-tool items and annotations are named", () => {
    const ir = decodeWhole("openai-responses", { id: "resp_1", object: "response", status: "completed", model: "gpt-x", output, usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 } });
    expect(ir.content).toEqual([{ type: "text", text: "Found it." }]);
    expect(ir.dropped?.map((d) => d.feature)).toEqual(["response.item.web_search_call", "response.annotations", "response.item.image_generation_call"]);
  });

  it("streamed: an unknown output item and an annotation event are announced", () => {
    let seq = 0;
    const ev = (type: string, fields: Record<string, unknown>) => ({ type, sequence_number: seq++, ...fields });
    const resp = { id: "resp_1", object: "response", status: "in_progress", model: "gpt-x", output: [] };
    const events = decodeStream(
      "openai-responses",
      sse(
        [
          ev("response.created", { response: resp }),
          ev("response.output_item.added", { output_index: 0, item: { type: "web_search_call", id: "ws_1", status: "in_progress" } }),
          ev("response.output_item.done", { output_index: 0, item: output[0] }),
          ev("response.output_item.added", { output_index: 1, item: { type: "message", id: "msg_1", status: "in_progress", role: "assistant", content: [] } }),
          ev("response.content_part.added", { output_index: 1, content_index: 0, item_id: "msg_1", part: { type: "output_text", text: "", annotations: [] } }),
          ev("response.output_text.delta", { output_index: 1, content_index: 0, item_id: "msg_1", delta: "Found it." }),
          ev("response.output_text.annotation.added", { output_index: 1, content_index: 0, item_id: "msg_1", annotation_index: 0, annotation: { type: "url_citation", url: "https://example.org" } }),
          ev("response.output_text.done", { output_index: 1, content_index: 0, item_id: "msg_1", text: "Found it." }),
          ev("response.content_part.done", { output_index: 1, content_index: 0, item_id: "msg_1", part: { type: "output_text", text: "Found it." } }),
          ev("response.output_item.done", { output_index: 1, item: output[1] }),
          ev("response.completed", { response: { ...resp, status: "completed", output, usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 } } }),
        ],
        true,
      ),
    );
    expect(features(events)).toEqual(["response.item.web_search_call", "response.annotations"]);
    expect(text(events)).toBe("Found it.");
    expect(events.at(-1)).toMatchObject({ type: "finish", stopReason: "end_turn" });
  });
});

describe("Gemini answers", () => {
  const candidate = {
    content: { role: "model", parts: [{ text: "Spain won Euro 2024." }, { executableCode: { language: "PYTHON", code: "print(1)" } }] },
    finishReason: "STOP",
    index: 0,
    groundingMetadata: { webSearchQueries: ["euro 2024 winner"], groundingChunks: [{ web: { uri: "https://example.org", title: "example.org" } }] },
  };

  it("whole: grounding metadata and executable-code parts are named", () => {
    const ir = decodeWhole("gemini", { candidates: [candidate], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 6, totalTokenCount: 11 }, modelVersion: "gemini-x" });
    expect(ir.content).toEqual([{ type: "text", text: "Spain won Euro 2024." }]);
    expect(ir.dropped?.map((d) => d.feature).sort()).toEqual(["response.groundingMetadata", "response.part.executableCode"]);
  });

  it("streamed: the same, announced once across chunks", () => {
    const chunk = (c: unknown) => ({ candidates: [c], modelVersion: "gemini-x", responseId: "r1" });
    const events = decodeStream(
      "gemini",
      sse([chunk({ ...candidate, finishReason: undefined }), chunk({ content: { role: "model", parts: [{ text: "" }] }, finishReason: "STOP", index: 0, groundingMetadata: candidate.groundingMetadata })]),
    );
    expect(features(events).sort()).toEqual(["response.groundingMetadata", "response.part.executableCode"]);
    expect(text(events)).toBe("Spain won Euro 2024.");
  });
});

describe("Anthropic answers", () => {
  it("whole: server-tool blocks and citations are named; thinking and text stay", () => {
    const ir = decodeWhole("anthropic", {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-x",
      content: [
        { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "q" } },
        { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] },
        { type: "text", text: "Answer.", citations: [{ type: "web_search_result_location", url: "https://example.org", title: "t", encrypted_index: "x", cited_text: "c" }] },
      ],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 2 },
    });
    expect(ir.content).toEqual([{ type: "text", text: "Answer." }]);
    expect(ir.dropped?.map((d) => d.feature)).toEqual(["response.block.server_tool_use", "response.block.web_search_tool_result", "response.citations"]);
  });
});
