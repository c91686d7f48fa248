/** A configuration problem: where (a JSON path) and why — never the value. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** `["pools", "openai", "members", 0, "key"]` → `pools.openai.members[0].key`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(root)";
}
