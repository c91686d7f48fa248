/**
 * `ferry keys [--kind project|companion]`: prints one new secret. A project key is `fp-` and
 * 32 random bytes in base64url (what clients send to the companion); a companion secret is
 * 32 random bytes in base64url (43 characters; the edge wants at least 32).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { UsageError } from "./shared.ts";

export const KEYS_USAGE = `ferry keys [--kind project|companion]
  Prints a new project key (fp-…, the default) or companion secret.`;

export const newProjectKey = () => "fp-" + randomBytes(32).toString("base64url");
export const newCompanionSecret = () => randomBytes(32).toString("base64url");

export async function keys(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { kind: { type: "string", default: "project" } } });
  if (values.kind === "project") console.log(newProjectKey());
  else if (values.kind === "companion") console.log(newCompanionSecret());
  else throw new UsageError(`--kind must be project or companion, not ${JSON.stringify(values.kind)}`);
  return 0;
}
