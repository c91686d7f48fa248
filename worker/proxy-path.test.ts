import { describe, expect, it } from "vitest";
import { joinUpstreamUrl, parseProxyPath } from "./proxy-path.ts";

describe("parseProxyPath", () => {
  it.each([
    ["/proxy/openai/v1/chat/completions", "openai", "/v1/chat/completions"],
    ["/proxy/anthropic/v1/messages", "anthropic", "/v1/messages"],
    [
      "/proxy/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent",
      "gemini",
      "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
    ],
    ["/proxy/azure/openai/deployments/gpt-4o/chat/completions", "azure", "/openai/deployments/gpt-4o/chat/completions"],
    ["/proxy/qwen.cn_2-b/v1/models/", "qwen.cn_2-b", "/v1/models/"],
    ["/proxy/openai/v1/files/file-abc%20def", "openai", "/v1/files/file-abc%20def"],
    ["/proxy/openai/v1/...", "openai", "/v1/..."],
    ["/proxy/openai/v1/a.b/.well", "openai", "/v1/a.b/.well"],
  ])("accepts %s", (pathname, pool, path) => {
    expect(parseProxyPath(pathname)).toEqual({ ok: true, value: { pool, path } });
  });

  it("gives the path / when nothing follows the pool name", () => {
    expect(parseProxyPath("/proxy/openai")).toEqual({ ok: true, value: { pool: "openai", path: "/" } });
    expect(parseProxyPath("/proxy/openai/")).toEqual({ ok: true, value: { pool: "openai", path: "/" } });
  });

  it("keeps percent-encoding as the caller sent it", () => {
    const r = parseProxyPath("/proxy/gemini/v1beta/models/gemini%2D2.5:generateContent");
    expect(r).toEqual({ ok: true, value: { pool: "gemini", path: "/v1beta/models/gemini%2D2.5:generateContent" } });
  });

  it.each([
    ["/v1/chat/completions"],
    ["/proxy"],
    ["/proxy/"],
    ["/proxy//v1/chat/completions"],
    ["/proxies/openai/v1"],
    ["proxy/openai/v1"],
  ])("refuses %s, which is not /proxy/{pool}/...", (pathname) => {
    expect(parseProxyPath(pathname).ok).toBe(false);
  });

  it.each([
    ["an uppercase pool name", "/proxy/OpenAI/v1/models"],
    ["a pool name starting with a dot", "/proxy/.openai/v1/models"],
    ["a pool name starting with a dash", "/proxy/-openai/v1/models"],
    ["a pool name of 65 characters", `/proxy/${"a".repeat(65)}/v1/models`],
    ["a pool name with a percent sign", "/proxy/open%61i/v1/models"],
    ["a pool name of two dots", "/proxy/../v1/models"],
    ["a pool name with a colon", "/proxy/open:ai/v1/models"],
  ])("refuses %s", (_label, pathname) => {
    expect(parseProxyPath(pathname)).toEqual({ ok: false, error: "invalid provider name" });
  });

  it("accepts a pool name of 64 characters", () => {
    expect(parseProxyPath(`/proxy/${"a".repeat(64)}/v1`).ok).toBe(true);
  });

  it.each([
    ["/proxy/openai/../admin"],
    ["/proxy/openai/v1/../../admin"],
    ["/proxy/openai/v1/.."],
    ["/proxy/openai/./v1/models"],
    ["/proxy/openai/v1/."],
    ["/proxy/openai/v1/./"],
  ])("refuses the dot segment in %s", (pathname) => {
    expect(parseProxyPath(pathname)).toEqual({ ok: false, error: "path contains a dot segment" });
  });

  it.each([
    ["an encoded dot-dot segment", "/proxy/openai/v1/%2e%2e/admin"],
    ["an uppercase encoded dot", "/proxy/openai/v1/%2E/admin"],
    ["a half-encoded dot-dot", "/proxy/openai/v1/.%2e/admin"],
    ["an encoded dot inside a name", "/proxy/openai/v1/file%2Ejson"],
    ["an encoded slash", "/proxy/openai/v1%2f..%2fadmin"],
    ["an uppercase encoded slash", "/proxy/openai/v1%2Fadmin"],
    ["an encoded backslash", "/proxy/openai/v1%5cadmin"],
    ["an uppercase encoded backslash", "/proxy/openai/v1%5Cadmin"],
    ["a backslash", "/proxy/openai/v1\\..\\admin"],
    ["an at sign", "/proxy/openai/@evil.example/v1"],
    ["an encoded at sign", "/proxy/openai/%40evil.example/v1"],
    ["an encoded NUL", "/proxy/openai/v1/models%00.json"],
    ["an encoded newline", "/proxy/openai/v1/models%0a"],
    ["an encoded unit separator", "/proxy/openai/v1/models%1F"],
    ["an encoded DEL", "/proxy/openai/v1/models%7f"],
    ["a raw NUL", "/proxy/openai/v1/models\u0000"],
    ["a raw tab", "/proxy/openai/v1/\tmodels"],
    ["a raw DEL", "/proxy/openai/v1/models\u007f"],
  ])("refuses %s", (_label, pathname) => {
    expect(parseProxyPath(pathname)).toEqual({ ok: false, error: "path contains a forbidden sequence" });
  });

  it.each([["/proxy/openai/v1/models\r"], ["/proxy/openai/v1/\nmodels"], ["/proxy/openai/v1/models\u2028"]])(
    "refuses the line terminator in %j",
    (pathname) => {
      expect(parseProxyPath(pathname).ok).toBe(false);
    },
  );

  it.each([
    ["/proxy/openai//v1/models"],
    ["/proxy/openai/v1//models"],
    ["/proxy/openai//evil.example/v1"],
    ["/proxy/openai/v1/models//"],
  ])("refuses the empty segment in %s", (pathname) => {
    expect(parseProxyPath(pathname)).toEqual({ ok: false, error: "path contains an empty segment" });
  });
});

describe("joinUpstreamUrl", () => {
  it("joins onto a base without a path", () => {
    const url = joinUpstreamUrl(new URL("https://api.openai.com"), "/v1/chat/completions", "");
    expect(url?.href).toBe("https://api.openai.com/v1/chat/completions");
  });

  it("keeps the origin and the base path prefix", () => {
    const base = new URL("https://dashscope.example/compatible-mode");
    const url = joinUpstreamUrl(base, "/v1/chat/completions", "");
    expect(url?.href).toBe("https://dashscope.example/compatible-mode/v1/chat/completions");
  });

  it("does not double the slash when the base ends with one", () => {
    const base = new URL("https://dashscope.example/compatible-mode/");
    expect(joinUpstreamUrl(base, "/v1/models", "")?.href).toBe("https://dashscope.example/compatible-mode/v1/models");
  });

  it("keeps a port and a non-default scheme", () => {
    const base = new URL("http://127.0.0.1:8787/m1");
    expect(joinUpstreamUrl(base, "/v1/models", "")?.href).toBe("http://127.0.0.1:8787/m1/v1/models");
  });

  it("sets the given query, replacing any on the base, and drops a fragment", () => {
    const base = new URL("https://res.openai.azure.com/prefix?api-version=old#frag");
    const url = joinUpstreamUrl(base, "/openai/deployments/x/chat/completions", "?api-version=2024-10-21");
    expect(url?.href).toBe("https://res.openai.azure.com/prefix/openai/deployments/x/chat/completions?api-version=2024-10-21");
    expect(joinUpstreamUrl(base, "/v1", "")?.href).toBe("https://res.openai.azure.com/prefix/v1");
  });

  it("does not modify the base URL", () => {
    const base = new URL("https://dashscope.example/compatible-mode");
    joinUpstreamUrl(base, "/v1/chat/completions", "?a=1");
    expect(base.href).toBe("https://dashscope.example/compatible-mode");
  });

  const hostile = [
    "/https://evil.example/x",
    "//evil.example",
    "//evil.example/x",
    "/\\evil.example/x",
    "/@evil.example",
    "/:443@evil.example/x",
    "/%2F%2Fevil.example",
    "/?x=//evil.example",
    "/#//evil.example",
  ];
  for (const baseHref of ["https://api.openai.com", "https://dashscope.example/compatible-mode"]) {
    it.each(hostile)(`never leaves ${baseHref} for path %s`, (path) => {
      const base = new URL(baseHref);
      const url = joinUpstreamUrl(base, path, "");
      if (url === null) throw new Error("expected the path to stay on the base URL, got null");
      expect(url.origin).toBe(base.origin);
      expect(url.host).toBe(base.host);
      expect(url.username).toBe("");
      expect(url.password).toBe("");
      expect(url.pathname.startsWith(base.pathname.replace(/\/+$/, "") + "/")).toBe(true);
      expect(url.search).toBe("");
      expect(url.hash).toBe("");
    });
  }

  it("keeps /https://evil.example/x as a path on the configured host", () => {
    const url = joinUpstreamUrl(new URL("https://api.openai.com"), "/https://evil.example/x", "");
    expect(url?.href).toBe("https://api.openai.com/https://evil.example/x");
  });

  it("keeps //evil.example as a path on the configured host", () => {
    const url = joinUpstreamUrl(new URL("https://dashscope.example/compatible-mode"), "//evil.example", "");
    expect(url?.host).toBe("dashscope.example");
    expect(url?.pathname).toBe("/compatible-mode//evil.example");
  });

  it("refuses a path whose dot segments climb out of the base path prefix", () => {
    const base = new URL("https://dashscope.example/compatible-mode");
    expect(joinUpstreamUrl(base, "/../admin", "")).toBeNull();
    expect(joinUpstreamUrl(base, "/v1/../../admin", "")).toBeNull();
    expect(joinUpstreamUrl(base, "/%2e%2e/admin", "")).toBeNull();
  });
});
