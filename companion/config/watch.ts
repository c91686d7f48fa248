/**
 * Hot reload: a changed config file is validated and, if good, swapped in atomically; a bad
 * one keeps the running config and logs exactly what is wrong (path and reason).
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../log.ts";
import { loadConfigFile } from "./load.ts";
import type { CompanionConfig } from "./schema.ts";

export interface Reloader {
  /** Re-reads the file now; true if a new config was swapped in. */
  reload(): boolean;
  close(): void;
}

export function watchConfig(path: string, apply: (config: CompanionConfig) => void, log: Logger, env: NodeJS.ProcessEnv = process.env): Reloader {
  let last = "";
  const reload = (): boolean => {
    const result = loadConfigFile(path, env);
    if (!result.ok) {
      log("error", "config reload refused; keeping the running config", { file: path, issues: result.error });
      return false;
    }
    const fingerprint = JSON.stringify(result.value);
    if (fingerprint === last) return false;
    last = fingerprint;
    apply(result.value);
    return true;
  };
  const initial = loadConfigFile(path, env);
  if (initial.ok) last = JSON.stringify(initial.value);
  let timer: NodeJS.Timeout | null = null;
  // Watch the folder: editors replace files (rename), which a file watch would lose.
  const watcher: FSWatcher = watch(dirname(path), (_event, name) => {
    if (name !== basename(path)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      reload();
    }, 100);
  });
  return {
    reload,
    close: () => {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
