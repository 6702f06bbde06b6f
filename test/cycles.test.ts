import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { findCycles } from "../scripts/check-cycles";

it("lib/ has no import cycles, type-only imports included", () => {
  expect(findCycles(fileURLToPath(new URL("../lib", import.meta.url)))).toEqual([]);
});

it("finds a cycle through a multi-line type-only import and a folder's index, not one in a comment", () => {
  const root = mkdtempSync(join(tmpdir(), "cycles-"));
  mkdirSync(join(root, "b"));
  writeFileSync(join(root, "a.ts"), 'import type {\n  B,\n} from "./b/index.js";\nexport type A = B;\n');
  writeFileSync(join(root, "b", "index.ts"), 'import type { A } from "../a";\nexport type B = A;\n');
  // An example in a comment is not an import (lib/schema.ts has one naming itself).
  writeFileSync(join(root, "c.ts"), '// import * as z from "./c"\nexport const c = 1;\n');
  expect(findCycles(root)).toEqual([[join(root, "a.ts"), join(root, "b", "index.ts"), join(root, "a.ts")]]);
});
