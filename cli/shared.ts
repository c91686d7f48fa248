/**
 * What the `ferry` subcommands share: the names init gives secrets, reading a `.env` file the
 * way `node --env-file` does (the process environment wins), and printing config issues as
 * `path: reason` — never a value.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseEnv } from "node:util";
import type { ConfigIssue } from "../shared/config-issue.ts";

/** A mistake on the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** `shanghai-office` → `SHANGHAI_OFFICE`: the part of a secret's name that a config id becomes. */
export function envToken(id: string): string {
  return id.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
}

/** The secret holding a companion's shared secret, at the edge and in the companion's `.env`. */
export const companionSecretName = (companionId: string) => `COMPANION_${envToken(companionId)}_SECRET`;
/** The environment variable holding a project's key in the companion's `.env`. */
export const projectKeyName = (projectId: string) => `FERRY_PROJECT_${envToken(projectId)}_KEY`;
/** The edge secret holding the n-th upstream key of a provider (1-based). */
export const providerKeyName = (provider: string, n = 1) => `${envToken(provider)}_KEY_${n}`;

/**
 * Marks the upstream keys `ferry init` cannot know: obviously not a key (no provider issues one
 * like it), and recognised by `ferry validate`, which warns while one is left.
 */
export const PLACEHOLDER_PREFIX = "FERRY-PLACEHOLDER-NOT-A-KEY";
export const placeholderKey = (provider: string) => `${PLACEHOLDER_PREFIX}-replace-with-your-${provider}-api-key`;
export const isPlaceholder = (value: unknown) => typeof value === "string" && value.startsWith(PLACEHOLDER_PREFIX);

export interface CompanionEnv {
  env: NodeJS.ProcessEnv;
  /** The `.env` file that was read, if any. */
  envFile: string | null;
}

/**
 * The environment a companion config is read with: the process environment, plus the `.env`
 * file given (or the one beside the config, if it exists) for names the process does not set.
 */
export function companionEnv(configPath: string, envFile?: string): CompanionEnv {
  const file = envFile ? resolve(envFile) : join(dirname(resolve(configPath)), ".env");
  if (!envFile && !existsSync(file)) return { env: process.env, envFile: null };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the env file ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const fromFile = parseEnv(text) as Record<string, string>;
  const env: NodeJS.ProcessEnv = { ...fromFile };
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && value !== "") env[name] = value;
  return { env, envFile: file };
}

export const formatIssue = (issue: ConfigIssue) => `${issue.path}: ${issue.message}`;
