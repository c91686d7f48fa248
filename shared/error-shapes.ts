/**
 * Error bodies in each API dialect's own shape, so an SDK parses a Ferry error like one from
 * the provider it thinks it is talking to. Used by the edge (inside a pool) and by the
 * companion (in the client's dialect).
 */
export type ErrorShape = "openai" | "anthropic" | "gemini" | "ollama";

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  503: "overloaded_error",
};

const GEMINI_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  413: "INVALID_ARGUMENT",
  415: "INVALID_ARGUMENT",
  426: "FAILED_PRECONDITION",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
  // Anthropic's "overloaded" status: Gemini says the same with UNAVAILABLE.
  529: "UNAVAILABLE",
};

/** `code` is Ferry's machine-readable reason (also sent as `x-ferry-error`). */
export function errorBody(shape: ErrorShape, status: number, code: string, message: string): unknown {
  switch (shape) {
    case "anthropic":
      return { type: "error", error: { type: ANTHROPIC_TYPES[status] ?? "api_error", message } };
    case "gemini":
      return { error: { code: status, message, status: GEMINI_STATUS[status] ?? "UNKNOWN" } };
    case "openai":
      return { error: { message, type: code, code, param: null } };
    case "ollama":
      return { error: message };
  }
}
