import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { findCycles } from "../scripts/check-cycles";

it("lib/ has no import cycles, type-only imports included", () => {
  expect(findCycles(fileURLToPath(new URL("../lib", import.meta.url)))).toEqual([]);
});
