/**
 * Prompt token counts. Known counts for fixed strings come from the OpenAI Cookbook's "How to
 * count tokens with tiktoken" (its o200k_base outputs) or were computed once with js-tiktoken's
 * o200k_base; dialect bodies must count exactly their parts plus the documented allowances.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  countPromptTokens,
  countTextTokens,
  IMAGE_TOKENS,
  MAX_PIECE_BYTES,
  MAX_TOKENIZE_WORK,
  MESSAGE_TOKENS,
  NAME_TOKENS,
  PIECE_WORK,
  REPLY_PRIMER_TOKENS,
  TOOL_TOKENS,
  TOOLS_TOKENS,
  type PromptDialect,
} from "./tokens.ts";

const DIALECTS: PromptDialect[] = ["anthropic", "openai-chat", "openai-responses", "gemini", "ollama"];

/** Strings are tokenized one by one, numbers added as they are. */
const sum = (...parts: (string | number)[]) => parts.reduce<number>((n, p) => n + (typeof p === "number" ? p : countTextTokens(p)), 0);

const SCHEMA = {
  type: "object",
  properties: { city: { type: "string", description: "The city, e.g. Paris" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city"],
};
const TOOL_NAME = "get_weather";
const TOOL_DESCRIPTION = "Get the current weather in a given location.";
/** The tool list as counted: its framing, and one tool's name, description and schema JSON. */
const WEATHER_TOOL = [TOOLS_TOKENS, TOOL_TOKENS, TOOL_NAME, TOOL_DESCRIPTION, JSON.stringify(SCHEMA)] as const;
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

describe("countTextTokens (o200k_base)", () => {
  it("matches the OpenAI Cookbook's o200k_base examples", () => {
    // [83, 8251, 2488, 382, 2212, 0]: t, ikt, oken, " is", " great", "!"
    expect(countTextTokens("tiktoken is great!")).toBe(6);
    expect(countTextTokens("antidisestablishmentarianism")).toBe(6);
    expect(countTextTokens("2 + 2 = 4")).toBe(7);
    expect(countTextTokens("お誕生日おめでとう")).toBe(8);
  });

  it("gives the counts computed once with js-tiktoken", () => {
    expect(countTextTokens("")).toBe(0);
    expect(countTextTokens("hello world")).toBe(2);
    expect(countTextTokens("Hello, world!")).toBe(4);
    expect(countTextTokens("function add(a: number, b: number) {\n  return a + b;\n}\n")).toBe(18);
    expect(countTextTokens("人工智能是计算机科学的一个分支。")).toBe(11);
    expect(countTextTokens("    indented\n\n\nlines")).toBe(5);
    expect(countTextTokens("😀👍🏽")).toBe(4);
  });

  it("reads special tokens as plain text instead of throwing", () => {
    expect(countTextTokens("<|endoftext|>")).toBe(7);
    expect(countTextTokens("a <|endofprompt|> b <|endoftext|>")).toBeGreaterThan(2);
  });

  it("encodes long runs in slices: exact on letters, high on spaces (documented)", () => {
    expect(countTextTokens("a".repeat(100))).toBe(13);
    expect(countTextTokens("a".repeat(1000))).toBe(125); // as js-tiktoken counts it whole
    expect(countTextTokens(" ".repeat(1000))).toBe(Math.ceil(1000 / MAX_PIECE_BYTES)); // whole: 9
  });
});

describe("countPromptTokens", () => {
  it("counts the Cookbook's chat example as the OpenAI API did (124 for gpt-4o)", () => {
    const messages = [
      { role: "system", content: "You are a helpful, pattern-following assistant that translates corporate jargon into plain English." },
      { role: "system", name: "example_user", content: "New synergies will help drive top-line growth." },
      { role: "system", name: "example_assistant", content: "Things working well together will increase revenue." },
      { role: "system", name: "example_user", content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
      { role: "system", name: "example_assistant", content: "Let's talk later when we're less busy about how to do better." },
      { role: "user", content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
    ];
    expect(countPromptTokens({ model: "gpt-4o", messages }, "openai-chat")).toBe(124);
  });

  it("anthropic: system, messages, tool use and result, thinking, tools", () => {
    const body = {
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: "What's the weather in Paris?" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "I should call the tool.", signature: "EqQBCkYIBxgCKkB".repeat(50) },
            { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: TOOL_NAME, input: { city: "Paris" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: [{ type: "text", text: "18°C, sunny" }] },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "Forecast: rain tomorrow." }, title: "forecast.txt" },
          ],
        },
      ],
      tools: [{ name: TOOL_NAME, description: TOOL_DESCRIPTION, input_schema: SCHEMA }],
    };
    expect(countPromptTokens(body, "anthropic")).toBe(
      sum(
        ...[MESSAGE_TOKENS, "system", "You are terse."],
        ...[MESSAGE_TOKENS, "user", "What's the weather in Paris?"],
        ...[MESSAGE_TOKENS, "assistant", "I should call the tool.", TOOL_NAME, '{"city":"Paris"}'],
        ...[MESSAGE_TOKENS, "user", "18°C, sunny", IMAGE_TOKENS, "Forecast: rain tomorrow.", "forecast.txt"],
        ...WEATHER_TOOL,
        REPLY_PRIMER_TOKENS,
      ),
    );
    expect(countPromptTokens({ ...body, system: "You are terse." }, "anthropic")).toBe(countPromptTokens(body, "anthropic"));
  });

  it("openai-chat: names, image parts, tool calls, tool messages, tools", () => {
    const body = {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "You are terse." },
        {
          role: "user",
          name: "ann",
          content: [
            { type: "text", text: "What's the weather in Paris?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "high" } },
          ],
        },
        { role: "assistant", content: null, tool_calls: [{ id: "call_abc123", type: "function", function: { name: TOOL_NAME, arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: "call_abc123", content: "18°C, sunny" },
      ],
      tools: [{ type: "function", function: { name: TOOL_NAME, description: TOOL_DESCRIPTION, parameters: SCHEMA } }],
    };
    expect(countPromptTokens(body, "openai-chat")).toBe(
      sum(
        ...[MESSAGE_TOKENS, "system", "You are terse."],
        ...[MESSAGE_TOKENS, "user", NAME_TOKENS, "ann", "What's the weather in Paris?", IMAGE_TOKENS],
        ...[MESSAGE_TOKENS, "assistant", TOOL_NAME, '{"city":"Paris"}'],
        ...[MESSAGE_TOKENS, "tool", "18°C, sunny"],
        ...WEATHER_TOOL,
        REPLY_PRIMER_TOKENS,
      ),
    );
  });

  it("openai-responses: instructions and every input item as a message", () => {
    const body = {
      model: "gpt-5",
      instructions: "You are terse.",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "What's the weather in Paris?" },
            { type: "input_image", image_url: `data:image/png;base64,${PNG}` },
          ],
        },
        { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "gAAAAABo".repeat(200) },
        { type: "function_call", id: "fc_1", call_id: "call_1", name: TOOL_NAME, arguments: '{"city":"Paris"}' },
        { type: "function_call_output", call_id: "call_1", output: "18°C, sunny" },
      ],
      tools: [{ type: "function", name: TOOL_NAME, description: TOOL_DESCRIPTION, parameters: SCHEMA }],
    };
    expect(countPromptTokens(body, "openai-responses")).toBe(
      sum(
        ...[MESSAGE_TOKENS, "system", "You are terse."],
        ...[MESSAGE_TOKENS, "user", "What's the weather in Paris?", IMAGE_TOKENS],
        MESSAGE_TOKENS, // the reasoning item: encrypted, nothing countable
        ...[MESSAGE_TOKENS, TOOL_NAME, '{"city":"Paris"}'],
        ...[MESSAGE_TOKENS, "18°C, sunny"],
        ...WEATHER_TOOL,
        REPLY_PRIMER_TOKENS,
      ),
    );
    expect(countPromptTokens({ input: "Hi there" }, "openai-responses")).toBe(sum(MESSAGE_TOKENS, "user", "Hi there", REPLY_PRIMER_TOKENS));
  });

  it("gemini: systemInstruction, parts, function calls and responses, tools; countTokens' wrapped form", () => {
    const request = {
      systemInstruction: { parts: [{ text: "You are terse." }] },
      contents: [
        { role: "user", parts: [{ text: "What's the weather in Paris?" }, { inlineData: { mimeType: "image/png", data: PNG } }] },
        { role: "model", parts: [{ functionCall: { name: TOOL_NAME, args: { city: "Paris" } }, thoughtSignature: "CiQB0e2Kb".repeat(40) }] },
        { role: "user", parts: [{ functionResponse: { name: TOOL_NAME, response: { temperature: "18°C", sky: "sunny" } } }] },
      ],
      tools: [{ functionDeclarations: [{ name: TOOL_NAME, description: TOOL_DESCRIPTION, parameters: SCHEMA }] }, { googleSearch: {} }],
      generationConfig: { maxOutputTokens: 100 },
    };
    const expected = sum(
      ...[MESSAGE_TOKENS, "system", "You are terse."],
      ...[MESSAGE_TOKENS, "user", "What's the weather in Paris?", IMAGE_TOKENS],
      ...[MESSAGE_TOKENS, "model", TOOL_NAME, '{"city":"Paris"}'],
      ...[MESSAGE_TOKENS, "user", TOOL_NAME, '{"temperature":"18°C","sky":"sunny"}'],
      ...WEATHER_TOOL,
      ...[TOOL_TOKENS, "googleSearch"],
      REPLY_PRIMER_TOKENS,
    );
    expect(countPromptTokens(request, "gemini")).toBe(expected);
    expect(countPromptTokens({ generateContentRequest: { model: "models/gemini-2.5-flash", ...request } }, "gemini")).toBe(expected);
    const snake = { system_instruction: { parts: [{ text: "Be brief." }] }, contents: [{ role: "user", parts: [{ text: "Hi" }, { inline_data: { mime_type: "image/jpeg", data: PNG } }] }] };
    expect(countPromptTokens(snake, "gemini")).toBe(sum(MESSAGE_TOKENS, "system", "Be brief.", MESSAGE_TOKENS, "user", "Hi", IMAGE_TOKENS, REPLY_PRIMER_TOKENS));
  });

  it("ollama: messages with images and tool calls, tools", () => {
    const body = {
      model: "qwen3:8b",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "What's the weather in Paris?", images: [PNG, PNG] },
        { role: "assistant", content: "", tool_calls: [{ function: { name: TOOL_NAME, arguments: { city: "Paris" } } }] },
        { role: "tool", content: "18°C, sunny", tool_name: TOOL_NAME },
      ],
      tools: [{ type: "function", function: { name: TOOL_NAME, description: TOOL_DESCRIPTION, parameters: SCHEMA } }],
      options: { num_predict: 100 },
    };
    expect(countPromptTokens(body, "ollama")).toBe(
      sum(
        ...[MESSAGE_TOKENS, "system", "You are terse."],
        ...[MESSAGE_TOKENS, "user", "What's the weather in Paris?", 2 * IMAGE_TOKENS],
        ...[MESSAGE_TOKENS, "assistant", TOOL_NAME, '{"city":"Paris"}'],
        ...[MESSAGE_TOKENS, "tool", "18°C, sunny"],
        ...WEATHER_TOOL,
        REPLY_PRIMER_TOKENS,
      ),
    );
  });

  it("counts each image as IMAGE_TOKENS, whatever its size", () => {
    const withImages = (n: number, data: string) => ({
      messages: [{ role: "user", content: [{ type: "text", text: "Compare these." }, ...Array.from({ length: n }, () => ({ type: "image", source: { type: "base64", media_type: "image/png", data } }))] }],
    });
    const none = countPromptTokens(withImages(0, PNG), "anthropic");
    expect(countPromptTokens(withImages(1, PNG), "anthropic")).toBe(none + IMAGE_TOKENS);
    expect(countPromptTokens(withImages(3, PNG), "anthropic")).toBe(none + 3 * IMAGE_TOKENS);
    expect(countPromptTokens(withImages(3, "A".repeat(4_000_000)), "anthropic")).toBe(none + 3 * IMAGE_TOKENS);
    // A data: URL where text was expected is an attachment too, not base64 text.
    const unknownPart = { messages: [{ role: "user", content: [{ type: "mystery", payload: `data:image/png;base64,${"A".repeat(100_000)}` }] }] };
    expect(countPromptTokens(unknownPart, "openai-chat")).toBe(sum(MESSAGE_TOKENS, "user", IMAGE_TOKENS, REPLY_PRIMER_TOKENS));
  });

  it("counts nothing for a body that is not an object", () => {
    for (const dialect of DIALECTS) {
      for (const body of [null, undefined, 42, "a prompt", [{ role: "user", content: "hi" }]]) expect(countPromptTokens(body, dialect)).toBe(0);
    }
  });
});

describe("limits", () => {
  it("tokenizes up to the work cap and extrapolates the rest at the measured rate", () => {
    // "ab1 " repeated tokenizes as " ab", "1" per unit (the first "ab" and a final " " aside).
    const unit = "ab1 ";
    expect(countTextTokens(unit.repeat(1000))).toBe(2001);
    const huge = unit.repeat(500_000); // 2 M characters: far past the cap
    const count = countTextTokens(huge);
    expect(Math.abs(count - 1_000_001)).toBeLessThan(1_000_001 * 0.01);
    // The budget is shared by a prompt's strings: later messages are estimated, not dropped.
    const body = { messages: [1, 2, 3].map(() => ({ role: "user", content: huge })) };
    const three = countPromptTokens(body, "openai-chat");
    expect(Math.abs(three - 3 * 1_000_001)).toBeLessThan(3 * 1_000_001 * 0.01);
  });

  it("estimates the rest at no less than characters / 4", () => {
    // Long runs of spaces tokenize to 1 token per 32-byte slice, far below 1 per 4 characters.
    const n = 5_000_000;
    const tokenizedAtMost = (MAX_TOKENIZE_WORK / (PIECE_WORK + MAX_PIECE_BYTES ** 2)) * MAX_PIECE_BYTES;
    const count = countTextTokens(" ".repeat(n));
    expect(count).toBeGreaterThanOrEqual((n - tokenizedAtMost) / 4);
    expect(count).toBeLessThanOrEqual(n / 4 + 1);
    expect(countTextTokens("x".repeat(n))).toBeGreaterThanOrEqual((n - tokenizedAtMost) / 4);
  });

  it("never throws on arbitrary JSON, and counts a whole number", () => {
    const dialect = fc.constantFrom(...DIALECTS);
    fc.assert(
      fc.property(fc.jsonValue(), dialect, (body, d) => {
        const n = countPromptTokens(body, d);
        expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
      }),
      { numRuns: 300 },
    );
    // Request-shaped bodies with arbitrary JSON where each dialect looks for content.
    const json = fc.jsonValue({ maxDepth: 3 });
    const type = fc.constantFrom("text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "message", "function_call", "function_call_output", "reasoning", "input_text", "input_image", "image_url", "refusal", "item_reference");
    const block = fc.record({ type, text: json, content: json, source: json, input: json, output: json, name: json, arguments: json, thinking: json, parts: json }, { requiredKeys: ["type"] });
    const part = fc.record({ text: json, inlineData: json, functionCall: json, functionResponse: json, executableCode: json, codeExecutionResult: json }, { requiredKeys: [] });
    const message = fc.record(
      { role: json, name: json, content: fc.oneof(json, fc.array(block, { maxLength: 4 })), parts: fc.array(part, { maxLength: 4 }), tool_calls: json, images: json, function_call: json },
      { requiredKeys: [] },
    );
    const messages = fc.array(fc.oneof(message, json), { maxLength: 5 });
    const body = fc.record(
      {
        system: fc.oneof(json, fc.array(block, { maxLength: 3 })),
        instructions: json,
        systemInstruction: fc.oneof(json, part),
        messages,
        input: fc.oneof(json, fc.array(fc.oneof(block, message), { maxLength: 5 })),
        contents: messages,
        tools: json,
        functions: json,
        prompt: json,
        generateContentRequest: json,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(body, dialect, (b, d) => {
        const n = countPromptTokens(b, d);
        expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("does not overflow the stack on deeply nested content", () => {
    let anthropic: unknown = "deep";
    let gemini: unknown = { text: "deep" };
    for (let i = 0; i < 50_000; i++) {
      anthropic = [{ type: "tool_result", content: anthropic }];
      gemini = { functionResponse: { name: "f", response: {}, parts: [gemini] } };
    }
    expect(countPromptTokens({ messages: [{ role: "user", content: anthropic }] }, "anthropic")).toBeGreaterThan(0);
    expect(countPromptTokens({ contents: [{ role: "user", parts: [gemini] }] }, "gemini")).toBeGreaterThan(0);
    expect(countPromptTokens({ messages: [{ role: "assistant", tool_calls: [{ function: { name: "f", arguments: anthropic } }] }] }, "ollama")).toBeGreaterThan(0);
  });
});
