/**
 * `npm start`: runs Ferry on this machine for trying it out (the edge in local workerd, a demo
 * upstream, the companion linked over the tunnel). The work is in cli/up.ts, which `ferry up`
 * runs too; options and behaviour are documented there.
 */
import { up } from "../cli/up.ts";

await up(process.argv.slice(2));
