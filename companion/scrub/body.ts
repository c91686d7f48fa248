/**
 * Identity inside request bodies (CLIENTS.md, "What identifies the person or machine"): removed
 * or rewritten per the scrub policy, on a copy (the input is never mutated). Reports each kind of
 * removal once, by name, never by value. Web-standard only (WebCrypto for the keyed hash).
 */
import type { ScrubContext, ScrubbedBody } from "./types.ts";

export type BodyDialect = "anthropic" | "openai-chat" | "openai-responses" | "gemini";

const BILLING_PREFIX = "x-anthropic-billing-header:";

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
/** Assignment that also works for an own `__proto__` key (JSON.parse can create one). */
const setOwn = (o: object, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });

export async function scrubBody(body: unknown, dialect: BodyDialect, ctx: ScrubContext): Promise<ScrubbedBody> {
  const policy = ctx.policy;
  let out = structuredClone(body);
  const removed: string[] = [];

  if (isObject(out) && dialect === "anthropic") {
    if (policy.metadataUserId === "drop" && isObject(out.metadata) && Object.hasOwn(out.metadata, "user_id")) {
      delete out.metadata.user_id;
      if (Object.keys(out.metadata).length === 0) delete out.metadata;
      removed.push("metadata.user_id");
    }
    if (policy.billingHeaderBlock === "drop") {
      const what = dropBillingHeader(out);
      if (what) removed.push(what);
    }
  }

  // Codex sends these on the Responses API; Chat Completions has the same prompt_cache_key, so
  // both OpenAI dialects get the same treatment (a hash keeps the caller's cache affinity).
  if (isObject(out) && (dialect === "openai-responses" || dialect === "openai-chat")) {
    if (policy.clientMetadata === "drop" && Object.hasOwn(out, "client_metadata")) {
      delete out.client_metadata;
      removed.push("client_metadata");
    }
    if (policy.promptCacheKey !== "keep" && Object.hasOwn(out, "prompt_cache_key")) {
      const value = out.prompt_cache_key;
      if (policy.promptCacheKey === "hash" && typeof value === "string") {
        out.prompt_cache_key = await hashPromptCacheKey(value, ctx.hashKey);
        removed.push("prompt_cache_key:hashed");
      } else {
        delete out.prompt_cache_key;
        removed.push("prompt_cache_key");
      }
    }
  }

  if (policy.redactHomePaths) {
    const redacted = redactHomePaths(out, policy.homePathUser);
    out = redacted.value;
    if (redacted.count) removed.push(`home-paths:${redacted.count}`);
  }
  if (policy.redactSystemDetails) {
    let count = 0;
    out = rewriteStrings(
      out,
      (s) =>
        s.includes("OS Version:")
          ? s.replace(OS_VERSION, (_m, head: string) => {
              count++;
              return `${head}(redacted)`;
            })
          : s,
      (k) => k,
    );
    if (count) removed.push(`os-version:${count}`);
  }
  return { body: out, removed };
}

/** Claude Code's environment block names the kernel release (`OS Version: Linux 6.18.44-…`). */
const OS_VERSION = /(OS Version:[ \t]*)[^\n<]+/g;

/** Claude Code's first system block `x-anthropic-billing-header: cc_version=…; cc_entrypoint=…;`. */
function dropBillingHeader(body: Obj): string | null {
  const system = body.system;
  if (typeof system === "string") {
    if (!system.trimStart().startsWith(BILLING_PREFIX)) return null;
    const newline = system.indexOf("\n");
    const rest = newline === -1 ? "" : system.slice(newline + 1);
    if (rest.trim()) body.system = rest;
    else delete body.system;
    return "system:billing-header";
  }
  if (!Array.isArray(system)) return null;
  const index = system.findIndex((b) => isObject(b) && typeof b.text === "string" && b.text.trimStart().startsWith(BILLING_PREFIX));
  if (index === -1) return null;
  system.splice(index, 1);
  if (system.length === 0) delete body.system;
  return `system[${index}]:billing-header`;
}

// ---------------------------------------------------------------------------------------------
// Keyed hash of session-valued fields

const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (hmacKeys.size >= 16) hmacKeys.clear();
    hmacKeys.set(secret, key);
  }
  return key;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** `pc_` + the first 22 base64url characters of HMAC-SHA256(secret, value): stable, not reversible. */
export async function hashPromptCacheKey(value: string, secret: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(value));
  return `pc_${base64url(new Uint8Array(mac)).slice(0, 22)}`;
}

// ---------------------------------------------------------------------------------------------
// Home paths

/** Characters that end a user-name segment (separators, quotes, markup, punctuation). */
const STOP = String.raw`\s/\\"'\x60<>|:*?,;()\[\]{}=&#!`;
/** A user name: at least one character, not ending in "." (end of a sentence). */
const USER = String.raw`[^${STOP}]*[^${STOP}.]`;
/** Windows user names may contain spaces; only taken with spaces when a separator follows. */
const WIN_USER = String.raw`[^${STOP}]+(?: [^${STOP}]+)+(?=[\\/])|${USER}`;

/**
 * `/home/<u>` (not inside another path or a URL path: `/srv/home/x` stays), `/Users/<u>`
 * (also `/c/Users/<u>`, `/mnt/c/Users/<u>`, `C:/Users/<u>`), `C:\Users\<u>` (any case, one or more
 * backslashes: strings holding JSON, e.g. tool-call arguments, double them).
 */
const HOME_PATH = new RegExp(
  [
    String.raw`(?<![\w.-])(/home/)(${USER})`,
    String.raw`(/Users/)(${USER})`,
    String.raw`((?:[A-Za-z]:)?\\+Users\\+|[A-Za-z]:(?:\\+|/)[Uu][Ss][Ee][Rr][Ss](?:\\+|/))(${WIN_USER})`,
  ].join("|"),
  "g",
);
const MAYBE_HOME = /home|users/i;

/** Claude Code's project directories encode the path with every non-alphanumeric as "-". */
const encodeSlug = (s: string) => s.replace(/[^A-Za-z0-9]/g, "-");

/**
 * Replaces the user name in home paths by `replacement`, in every string value and object key.
 * Then, for the user names found that way, also in path-derived slugs such as Claude Code's
 * `~/.claude/projects/-home-alice-projects-x` (not in values under a `name` key: tool and
 * function names are left as they are; they cannot hold a path, which needs a separator).
 */
export function redactHomePaths(value: unknown, replacement: string): { value: unknown; count: number } {
  let count = 0;
  const users = new Set<string>();
  const paths = (s: string): string => {
    if (!MAYBE_HOME.test(s)) return s;
    return s.replace(HOME_PATH, (match, ...groups: (string | undefined)[]) => {
      const prefix = groups[0] ?? groups[2] ?? groups[4] ?? "";
      const user = groups[1] ?? groups[3] ?? groups[5] ?? "";
      if (user === replacement) return match;
      users.add(user);
      count++;
      return prefix + replacement;
    });
  };
  let out = rewriteStrings(value, paths, paths);

  const slugs = [...new Set([...users].map(encodeSlug))].filter((u) => u !== encodeSlug(replacement)).sort((a, b) => b.length - a.length);
  if (slugs.length) {
    const slug = new RegExp(String.raw`(?<![A-Za-z0-9])-(home|Users)-(?:${slugs.join("|")})(?![A-Za-z0-9])`, "g");
    const encoded = encodeSlug(replacement);
    const slugFn = (s: string, key: string | null): string => {
      if (key === "name" || !MAYBE_HOME.test(s)) return s;
      return s.replace(slug, (_m, dir: string) => {
        count++;
        return `-${dir}-${encoded}`;
      });
    };
    out = rewriteStrings(out, slugFn, (k) => k);
  }
  return { value: out, count };
}

/** Rewrites every string (values with the key they sit under; keys) in place; returns the root. */
function rewriteStrings(node: unknown, value: (s: string, key: string | null) => string, key: (k: string) => string, under: string | null = null): unknown {
  if (typeof node === "string") return value(node, under);
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = rewriteStrings(node[i], value, key);
    return node;
  }
  if (!isObject(node)) return node;
  let renamed = false;
  const entries = Object.entries(node).map(([k, v]): [string, unknown] => {
    const nk = key(k);
    if (nk !== k) renamed = true;
    return [nk, rewriteStrings(v, value, key, k)];
  });
  if (renamed) for (const k of Object.keys(node)) delete node[k];
  for (const [k, v] of entries) if (renamed || node[k] !== v) setOwn(node, k, v);
  return node;
}
