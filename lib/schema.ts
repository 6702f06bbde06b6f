/**
 * The schema library every module of lib/ validates with: zod/mini, the tree-shakable form of zod 4 (same
 * core, same issues, functions instead of methods: `z.optional(s)`, `s.check(z.minLength(1))`). Classic
 * zod's method API keeps all of zod (~445 KiB) in every bundle and costs ~30 ms of every cold start; mini
 * bundles only what is used (tens of KiB).
 *
 * Mini has no messages of its own: English is set here, so a message the code does not give is worded as
 * classic zod words it ("Unrecognized key: ...").
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

// Import as a namespace (`import * as z from "./schema"`): esbuild drops what is not used. Exporting the
// namespace as one object (`export { z }`) would keep all of zod in the bundle.
export * from "zod/mini";
