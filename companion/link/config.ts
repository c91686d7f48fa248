/** The link's part of the companion config, validated once with zod; units in the names. */
import { z } from "zod";

export const LinkConfigSchema = z.strictObject({
  /** `auto`: tunnel, with HTTPS for new requests while the tunnel is down. */
  transport: z.enum(["auto", "tunnel", "https"]).default("auto"),
  /** Edge base URLs, primary first; a dead one is skipped for `edgeRetryMs`. */
  edges: z.array(z.url({ protocol: /^https?$/ })).min(1),
  companionId: z.string().min(1),
  secret: z.string().min(32),
  /** HTTP(S) egress proxy (CONNECT) for both transports; HTTPS_PROXY is used when absent. */
  proxy: z.url({ protocol: /^https?$/ }).optional(),
  /** Hosts that bypass the proxy (suffix match, `*` for all); NO_PROXY is added. */
  noProxy: z.array(z.string()).default([]),
  /** PEM file of extra CAs trusted for the edge (corporate TLS inspection). */
  caFile: z.string().optional(),
  heartbeatIntervalMs: z.number().int().min(100).default(15_000),
  /** No pong (or other message) for this long: the socket is dead, reconnect. */
  heartbeatTimeoutMs: z.number().int().min(100).default(35_000),
  connectTimeoutMs: z.number().int().min(100).default(10_000),
  reconnectBaseMs: z.number().int().min(10).default(500),
  reconnectMaxMs: z.number().int().min(10).default(30_000),
  /** Cap on tunnel connection attempts per minute, so a down edge sees no storm. */
  reconnectsPerMinute: z.number().int().min(1).default(12),
  /** An edge that failed to connect is skipped this long. */
  edgeRetryMs: z.number().int().min(0).default(30_000),
  /** Times one request may be re-sent after its transport lost it unstarted. */
  maxResends: z.number().int().min(0).max(5).default(2),
});

export type LinkConfig = z.output<typeof LinkConfigSchema>;
export type LinkConfigInput = z.input<typeof LinkConfigSchema>;
