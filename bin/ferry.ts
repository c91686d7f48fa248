#!/usr/bin/env node
/**
 * `ferry`: the operator's command line. Dispatches to one file per subcommand under cli/,
 * loaded only when asked for (`ferry up` pulls in workerd; the others stay quick).
 * Exit codes: 0 fine, 1 the check or command failed, 2 a usage error.
 */
import { UsageError } from "../cli/shared.ts";

interface Command {
  summary: string;
  usage: () => Promise<string>;
  run: (args: string[]) => Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  init: {
    summary: "write a companion config, its .env, an edge config and secrets.json; print the client set-up",
    usage: async () => (await import("../cli/init.ts")).INIT_USAGE,
    run: async (args) => (await import("../cli/init.ts")).init(args),
  },
  validate: {
    summary: "check the companion config and/or the edge config with its secrets (path: reason)",
    usage: async () => (await import("../cli/validate.ts")).VALIDATE_USAGE,
    run: async (args) => (await import("../cli/validate.ts")).validate(args),
  },
  doctor: {
    summary: "check config, proxy and CAs, edges, signature, tunnel RTT and Ollama from this machine",
    usage: async () => (await import("../cli/doctor.ts")).DOCTOR_USAGE,
    run: async (args) => (await import("../cli/doctor.ts")).doctor(args),
  },
  keys: {
    summary: "print a new project key (fp-…) or companion secret",
    usage: async () => (await import("../cli/keys.ts")).KEYS_USAGE,
    run: async (args) => (await import("../cli/keys.ts")).keys(args),
  },
  up: {
    summary: "run edge (local workerd) + demo upstream + companion on this machine (npm start)",
    usage: async () => (await import("../cli/up.ts")).UP_USAGE,
    run: async (args) => {
      await (await import("../cli/up.ts")).up(args);
      return 0;
    },
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `usage: ferry <command> [options]   (ferry <command> --help for its options)

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join("\n")}
`;
}

/** Runs one command line (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`ferry: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    console.log(await command.usage());
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    // parseArgs' own errors (unknown option, missing value) are usage errors too.
    const code = (error as { code?: string }).code;
    if (error instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`ferry ${name}: ${(error as Error).message}\n\n${await command.usage()}\n`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // `up` keeps running (its servers hold the process open); the others are done.
  if (process.argv[2] !== "up") process.exitCode = code;
}
