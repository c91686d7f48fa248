import type { Relay } from "./relay/relay.ts";

export interface Env {
  RELAY: DurableObjectNamespace<Relay>;
  /** JSON edge configuration (secret). Other secrets may be referenced from it by name. */
  FERRY_CONFIG?: string;
  [secret: string]: unknown;
}
