import type { Hono } from "hono";
import type { Runtime } from "../runtime.ts";

/** Each request takes the Runtime current when it arrives and keeps it to the end. */
export type GetRuntime = () => Runtime;
export type App = Hono;
