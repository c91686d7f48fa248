/** The companion's view of the edge: one interface, whichever transport carries it. */

export interface LinkRequest {
  /** Unique per request; the edge refuses to start the same id twice. */
  requestId: string;
  method: string;
  /** Edge pool (or provider) name. */
  pool: string;
  /** Native path, starting with "/". */
  path: string;
  /** "" or "?...". */
  query: string;
  headers: [string, string][];
  body: Uint8Array | null;
  signal?: AbortSignal;
}

export type TransportName = "tunnel" | "https";

export interface LinkResponse {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  transport: TransportName;
  /** The edge URL that served it. */
  edge: string;
}

export const LINK_ERRORS = {
  /** No transport could take the request; it was not started anywhere. */
  unavailable: 502,
  /** The edge had started it when the link dropped: not sent again, so the caller must decide. */
  interrupted: 502,
  /** The stream was reset by the edge after the answer had started. */
  upstream_failed: 502,
  cancelled: 499,
  /** The edge refused the request itself (a protocol error, a too-large body). */
  refused: 400,
} as const;
export type LinkErrorCode = keyof typeof LINK_ERRORS;

export class LinkError extends Error {
  override name = "LinkError";
  readonly code: LinkErrorCode;
  /** True when nothing can have reached the upstream, so the request may be sent again. */
  readonly resendable: boolean;

  constructor(code: LinkErrorCode, message: string, resendable = false) {
    super(message);
    this.code = code;
    this.resendable = resendable;
  }

  get status(): number {
    return LINK_ERRORS[this.code];
  }
}

export interface Transport {
  readonly name: TransportName;
  send(req: LinkRequest): Promise<LinkResponse>;
}

export interface LinkState {
  transport: "tunnel" | "https" | "auto";
  tunnel: {
    state: "connecting" | "up" | "down" | "off";
    edge?: string;
    rttMs?: number;
    connects: number;
    openStreams: number;
  };
  edges: { url: string; healthy: boolean; deadUntil?: string }[];
}
