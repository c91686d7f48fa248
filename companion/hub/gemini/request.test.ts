import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IrRequest } from "../ir.ts";
import { codec } from "./index.ts";

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
const client = (name: string): { path: string; body: unknown } => JSON.parse(readFileSync(new URL(`../../../test/fixtures/clients/${name}`, import.meta.url), "utf8"));

function decode(body: unknown, model = "gemini-2.5-flash"): IrRequest {
  const r = codec.decodeRequest(body, { model, stream: false });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function encode(ir: IrRequest, model = "gemini-2.5-flash"): { body: unknown; dropped: IrRequest["dropped"] } {
  const r = codec.encodeRequest(ir, { model });
  if (!r.ok) throw new Error(r.error.message);
  return r.value as { body: unknown; dropped: IrRequest["dropped"] };
}

const base = (over: Partial<IrRequest>): IrRequest => ({ model: "gemini-2.5-flash", system: [], messages: [], tools: [], stream: false, dropped: [], ...over });

describe("gemini decodeRequest (golden)", () => {
  it("plain text, role defaulting to user, model from the path", () => {
    expect(codec.decodeRequest(fixture("request-text.json"), { model: "gemini-2.5-flash", stream: true })).toEqual({
      ok: true,
      value: base({ messages: [{ role: "user", content: [{ type: "text", text: "Write a story about a magic backpack." }] }], stream: true }),
    });
  });

  it("system prompt, multi-turn and generation config; safety settings are dropped", () => {
    expect(decode(fixture("request-chat.json"))).toEqual(
      base({
        system: [{ text: "You are a cat. Your name is Neko." }],
        messages: [
          { role: "user", content: [{ type: "text", text: "Hello" }] },
          { role: "assistant", content: [{ type: "text", text: "Great to meet you. What would you like to know?" }] },
          { role: "user", content: [{ type: "text", text: "I have two dogs in my house. How many paws are in my house?" }] },
        ],
        stopSequences: ["Title"],
        temperature: 1,
        topP: 0.8,
        topK: 10,
        maxOutputTokens: 800,
        seed: 42,
        presencePenalty: 0.5,
        frequencyPenalty: 0.25,
        dropped: [{ feature: "request.safetySettings", reason: "safety thresholds have no equivalent on other targets" }],
      }),
    );
  });

  it("images, PDFs and file URIs", () => {
    expect(decode(fixture("request-media.json")).messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Tell me about this instrument" },
          { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: expect.stringMatching(/^\/9j\//) } },
          { type: "document", source: { kind: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K" } },
          { type: "document", source: { kind: "url", url: "https://generativelanguage.googleapis.com/v1beta/files/abc-123" } },
          { type: "image", source: { kind: "url", url: "https://example.com/images/piano.png" } },
        ],
      },
    ]);
  });

  it("tool definitions (OpenAPI and JSON Schema), parallel id-less calls paired with their responses, tool choice", () => {
    const ir = decode(fixture("request-tools.json"));
    const calls = ir.messages[1]!.content;
    expect(calls).toEqual([
      { type: "tool_call", id: "call_0_f8481cf7", name: "power_disco_ball", arguments: '{"power":true}' },
      { type: "tool_call", id: "call_1_15e1aeab", name: "start_music", arguments: '{"energetic":true,"loud":true}' },
      { type: "tool_call", id: "call_2_b3cb06fc", name: "dim_lights", arguments: '{"brightness":0.5}' },
    ]);
    expect(ir.messages[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", toolCallId: "call_0_f8481cf7", name: "power_disco_ball", content: [{ type: "text", text: '{"result":"Disco ball is spinning!"}' }] },
        { type: "tool_result", toolCallId: "call_1_15e1aeab", name: "start_music", content: [{ type: "text", text: "Now playing: energetic loud music." }] },
        { type: "tool_result", toolCallId: "call_2_b3cb06fc", name: "dim_lights", content: [{ type: "text", text: "The lights are stuck." }], isError: true },
      ],
    });
    expect(ir.tools[1]).toEqual({
      name: "start_music",
      description: "Play some music matching the specified parameters.",
      parameters: {
        type: "object",
        properties: {
          energetic: { type: "boolean", description: "Whether the music is energetic or not." },
          loud: { type: "boolean", description: "Whether the music is loud or not." },
          genre: { type: ["string", "null"], enum: ["pop", "jazz"] },
        },
        required: ["energetic", "loud"],
      },
    });
    expect(ir.tools[2]!.parameters).toEqual({
      type: "object",
      properties: { brightness: { type: "number", description: "The brightness of the lights, 0.0 is off, 1.0 is full." } },
      required: ["brightness"],
    });
    expect(ir.toolChoice).toEqual({ type: "tool", name: "dim_lights" });
    expect(ir.dropped).toEqual([{ feature: "request.tools.googleSearch", reason: 'the server-side Gemini tool "googleSearch" cannot run on another target' }]);
    // Ids are stable: the same history decodes to the same ids on the next turn.
    expect(decode(fixture("request-tools.json")).messages[1]).toEqual(ir.messages[1]);
  });

  it("same-name parallel calls pair with their responses in order; ids from the wire are kept", () => {
    const ir = decode({
      contents: [
        { role: "model", parts: [{ functionCall: { name: "read", args: { p: "a" } } }, { functionCall: { name: "read", args: { p: "b" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "read", response: { output: "A" } } }, { functionResponse: { name: "read", response: { output: "B" } } }] },
        { role: "model", parts: [{ functionCall: { id: "x1", name: "read", args: {} } }] },
        { role: "user", parts: [{ functionResponse: { id: "x1", name: "read", response: { output: "C" } } }, { functionResponse: { name: "orphan", response: {} } }] },
      ],
    });
    const [a, b] = ir.messages[0]!.content as { id: string }[];
    const results = [...ir.messages[1]!.content, ...ir.messages[3]!.content] as { toolCallId: string }[];
    expect(results.map((r) => r.toolCallId)).toEqual([a!.id, b!.id, "x1", expect.stringMatching(/^call_\d+_[0-9a-f]{8}$/)]);
  });

  it("thinking: thought parts, signatures on calls and on text (carried by an empty reasoning part), thinkingConfig", () => {
    const ir = decode(fixture("request-thinking.json"));
    expect(ir.messages[1]!.content).toEqual([
      { type: "reasoning", text: "**Checking the weather**\nThe user wants Paris weather; I should call the tool." },
      { type: "tool_call", id: "fc-1", name: "get_weather", arguments: '{"city":"Paris"}', thoughtSignature: "CiQBcsjafAbCdEf0123==" },
    ]);
    expect(ir.messages[2]!.content).toEqual([{ type: "tool_result", toolCallId: "fc-1", name: "get_weather", content: [{ type: "text", text: "18°C, light rain" }] }]);
    expect(ir.messages[3]!.content).toEqual([
      { type: "reasoning", text: "", thoughtSignature: "AY89a18iOcFus5wr5bW5xN6zZ4aU=" },
      { type: "text", text: "It is 18°C with light rain in Paris." },
    ]);
    expect(ir.reasoning).toEqual({ enabled: true, budgetTokens: 1024, includeThoughts: true });
    expect(ir.toolChoice).toEqual({ type: "auto" });
    expect(ir.dropped).toEqual([]);
  });

  it("thinking levels and budgets", () => {
    const r = (thinkingConfig: unknown): unknown => decode({ contents: [], generationConfig: { thinkingConfig } }).reasoning;
    expect(r({ thinkingBudget: 0 })).toEqual({ enabled: false });
    expect(r({ thinkingBudget: -1 })).toEqual({ enabled: true });
    expect(r({ thinkingLevel: "LOW", includeThoughts: false })).toEqual({ enabled: true, effort: "low", includeThoughts: false });
    expect(r({})).toBeUndefined();
  });

  it("Gemini CLI's auto-router call: JSON mode with a capitalised responseJsonSchema", () => {
    const rec = client("gemini-cli-0.61.0.auto-router-json-mode.generateContent.json");
    const ir = decode(rec.body, "gemini-3.5-flash-lite");
    expect(ir.responseFormat).toEqual({
      type: "json_schema",
      schema: {
        type: "object",
        properties: {
          complexity_reasoning: { type: "string", description: "Brief explanation for the score." },
          complexity_score: { type: "integer", description: "Complexity score from 1-100." },
        },
        required: ["complexity_reasoning", "complexity_score"],
      },
    });
    expect(ir.reasoning).toEqual({ enabled: true, effort: "high", includeThoughts: true });
    expect(ir.system).toHaveLength(1);
    expect(ir.messages.map((m) => m.role)).toEqual(["user", "user"]);
    expect(ir.dropped).toEqual([]);
    // …and encoded for a Gemini target, JSON mode is kept.
    const wire = encode(ir, "gemini-2.5-flash-lite").body as { generationConfig: Record<string, unknown> };
    expect(wire.generationConfig.responseMimeType).toBe("application/json");
    expect(wire.generationConfig.responseJsonSchema).toEqual((ir.responseFormat as { schema: unknown }).schema);
  });

  it("Gemini CLI's streaming call: tools with parametersJsonSchema, thinking budget, nothing dropped", () => {
    const rec = client("gemini-cli-0.61.0.streamGenerateContent.json");
    const ir = decode(rec.body);
    expect(ir.tools.length).toBeGreaterThan(5);
    expect(ir.tools.every((t) => t.parameters.type === "object")).toBe(true);
    expect(ir.reasoning).toEqual({ enabled: true, budgetTokens: 8192, includeThoughts: true });
    expect(ir.messages).toHaveLength(1);
    expect(ir.messages[0]!.content).toHaveLength(2);
    expect(ir.dropped).toEqual([]);
  });

  it("JSON mode without a schema; responseSchema (OpenAPI) as JSON Schema", () => {
    expect(decode({ contents: [], generationConfig: { responseMimeType: "application/json" } }).responseFormat).toEqual({ type: "json" });
    expect(
      decode({ contents: [], generationConfig: { responseMimeType: "application/json", responseSchema: { type: "ARRAY", items: { type: "OBJECT", properties: { recipeName: { type: "STRING" } }, propertyOrdering: ["recipeName"] } } } }).responseFormat,
    ).toEqual({ type: "json_schema", schema: { type: "array", items: { type: "object", properties: { recipeName: { type: "string" } }, propertyOrdering: ["recipeName"] } } });
  });

  it("records what it cannot carry", () => {
    const ir = decode({
      contents: [{ role: "model", parts: [{ executableCode: { language: "PYTHON", code: "print(1)" } }, { text: "x", videoMetadata: {} }] }],
      generationConfig: { responseModalities: ["TEXT", "IMAGE"], responseLogprobs: true, candidateCount: 1 },
      toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["a", "b"] }, retrievalConfig: {} },
      labels: { team: "x" },
    });
    expect(ir.dropped.map((d) => d.feature).sort()).toEqual(
      [
        "part.executableCode",
        "part.videoMetadata",
        "request.generationConfig.responseLogprobs",
        "request.generationConfig.responseModalities",
        "request.labels",
        "request.toolConfig.functionCallingConfig.allowedFunctionNames",
        "request.toolConfig.retrievalConfig",
      ].sort(),
    );
    expect(ir.toolChoice).toEqual({ type: "required" });
  });

  it("refuses what it cannot serve, and malformed input, without throwing", () => {
    expect(codec.decodeRequest({ contents: [], generationConfig: { candidateCount: 2 } }, {})).toMatchObject({ ok: false, error: { code: "unsupported" } });
    expect(codec.decodeRequest({ contents: [], cachedContent: "cachedContents/abc" }, {})).toMatchObject({ ok: false, error: { code: "unsupported" } });
    for (const bad of [null, 3, "x", [], {}, { contents: {} }, { contents: [{ role: "system", parts: [] }] }, { contents: [{ parts: [{ functionCall: { args: {} } }] }] }, { contents: [{ parts: [{ inlineData: { data: "x" } }] }] }, { contents: [], generationConfig: { temperature: "hot" } }]) {
      expect(codec.decodeRequest(bad, {})).toMatchObject({ ok: false, error: { code: "bad_request" } });
    }
  });
});

describe("gemini encodeRequest (golden)", () => {
  it("a whole conversation: system, text, images, calls, results, thinking, JSON schema", () => {
    const ir = base({
      system: [{ text: "Be brief.", cacheControl: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture, and what's the weather?" },
            { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { kind: "url", url: "data:image/jpeg;base64,/9j/4AAQ" } },
            { type: "document", source: { kind: "url", url: "https://example.com/report.pdf?x=1" }, title: "Report" },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "reasoning", text: "Let me look.", signature: "anthropic-sig" },
            { type: "tool_call", id: "toolu_01", name: "get_weather", arguments: '{"city":"Paris"}' },
            { type: "tool_call", id: "toolu_02", name: "get_time", arguments: "" },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", toolCallId: "toolu_01", content: [{ type: "text", text: '{"temp":18}' }] },
            { type: "tool_result", toolCallId: "toolu_02", name: "get_time", content: [{ type: "text", text: "boom" }], isError: true },
          ],
        },
        { role: "assistant", content: [{ type: "reasoning", text: "", thoughtSignature: "sig-text" }, { type: "text", text: "A cat; 18°C." }] },
      ],
      tools: [{ name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
      toolChoice: { type: "tool", name: "get_weather" },
      maxOutputTokens: 100,
      temperature: 0.2,
      stopSequences: ["END"],
      responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true },
      reasoning: { enabled: true, effort: "high" },
    });
    const { body, dropped } = encode(ir, "gemini-3-pro-preview");
    expect(body).toEqual({
      contents: [
        {
          role: "user",
          parts: [
            { text: "What is in this picture, and what's the weather?" },
            { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
            { inlineData: { mimeType: "image/jpeg", data: "/9j/4AAQ" } },
            { fileData: { mimeType: "application/pdf", fileUri: "https://example.com/report.pdf?x=1" } },
          ],
        },
        {
          role: "model",
          parts: [
            { text: "Let me look.", thought: true },
            { functionCall: { id: "toolu_01", name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "skip_thought_signature_validator" },
            { functionCall: { id: "toolu_02", name: "get_time", args: {} } },
          ],
        },
        {
          role: "user",
          parts: [
            { functionResponse: { id: "toolu_01", name: "get_weather", response: { temp: 18 } } },
            { functionResponse: { id: "toolu_02", name: "get_time", response: { error: "boom" } } },
          ],
        },
        { role: "model", parts: [{ text: "A cat; 18°C.", thoughtSignature: "sig-text" }] },
      ],
      systemInstruction: { parts: [{ text: "Be brief." }] },
      tools: [{ functionDeclarations: [{ name: "get_weather", description: "Weather", parametersJsonSchema: { type: "object", properties: { city: { type: "string" } } } }] }],
      toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } },
      generationConfig: {
        maxOutputTokens: 100,
        temperature: 0.2,
        stopSequences: ["END"],
        responseMimeType: "application/json",
        responseJsonSchema: { type: "object" },
        thinkingConfig: { thinkingLevel: "HIGH", includeThoughts: true },
      },
    });
    expect(dropped.map((d) => d.feature).sort()).toEqual(["part.document.title", "part.reasoning.signature", "system.cacheControl"]);
  });

  it("Gemini 2.x: effort becomes a budget and no synthetic signatures; reasoning off is budget 0", () => {
    const ir = base({ messages: [{ role: "assistant", content: [{ type: "tool_call", id: "c", name: "f", arguments: "{}" }] }], reasoning: { enabled: true, effort: "low", includeThoughts: false } });
    const body = encode(ir, "gemini-2.5-pro").body as { contents: { parts: unknown[] }[]; generationConfig: unknown };
    expect(body.contents[0]!.parts).toEqual([{ functionCall: { id: "c", name: "f", args: {} } }]);
    expect(body.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 1024, includeThoughts: false } });
    expect(encode(base({ reasoning: { enabled: false } })).body).toEqual({ contents: [], generationConfig: { thinkingConfig: { thinkingBudget: 0 } } });
  });

  it("JSON mode and tool choices", () => {
    const tools = [{ name: "f", parameters: { type: "object" } }];
    const gc = (ir: Partial<IrRequest>): unknown => (encode(base(ir)).body as { generationConfig?: unknown }).generationConfig;
    const tc = (toolChoice: IrRequest["toolChoice"]): unknown => (encode(base({ tools, toolChoice })).body as { toolConfig?: unknown }).toolConfig;
    expect(gc({ responseFormat: { type: "json" } })).toEqual({ responseMimeType: "application/json" });
    expect(gc({ responseFormat: { type: "text" } })).toBeUndefined();
    expect(tc({ type: "auto" })).toEqual({ functionCallingConfig: { mode: "AUTO" } });
    expect(tc({ type: "none" })).toEqual({ functionCallingConfig: { mode: "NONE" } });
    expect(tc({ type: "required" })).toEqual({ functionCallingConfig: { mode: "ANY" } });
    expect(tc(undefined)).toBeUndefined();
  });

  it("records drops: arguments that are not an object, unknown result names, parallel_tool_calls", () => {
    const ir = base({
      messages: [
        { role: "assistant", content: [{ type: "tool_call", id: "c", name: "f", arguments: "[1,2]" }] },
        { role: "user", content: [{ type: "tool_result", toolCallId: "zz", content: [{ type: "text", text: "ok" }] }] },
      ],
      parallelToolCalls: false,
    });
    const { body, dropped } = encode(ir);
    expect((body as { contents: { parts: unknown[] }[] }).contents[1]!.parts).toEqual([{ functionResponse: { id: "zz", name: "zz", response: { output: "ok" } } }]);
    expect(dropped.map((d) => d.feature).sort()).toEqual(["parallelToolCalls", "part.tool_call.arguments", "part.tool_result.name"]);
  });

  it("a decoded Gemini request encodes back to the same body", () => {
    for (const name of ["request-thinking.json", "request-chat.json"]) {
      const original = fixture(name) as Record<string, unknown>;
      const again = encode(decode(original)).body as Record<string, unknown>;
      expect(again.contents).toEqual(original.contents);
      expect(again.systemInstruction).toEqual(original.systemInstruction);
    }
  });
});
