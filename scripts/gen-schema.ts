/** `npm run schema`: writes companion/config/ferry.schema.json from the zod schema. */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { configJsonSchema } from "../companion/config/load.ts";

const out = join(resolve(import.meta.dirname, ".."), "companion", "config", "ferry.schema.json");
writeFileSync(out, JSON.stringify(configJsonSchema(), null, 2) + "\n");
console.log(`wrote ${out}`);
