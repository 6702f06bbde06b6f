/**
 * Tripwire for a crash the fault campaign found: a file host that closes the connection (`Connection: close`,
 * FIN) while S3 takes the bytes slower than they arrive makes undici 7 throw an uncatchable
 * `AssertionError: assert(!this.paused)` from its socket "end" handler, killing the process (the CLI exits 1
 * with a stack trace and leaves its multipart upload open; a Lambda invocation dies). nodejs/undici#5360,
 * fixed in undici 8 (nodejs/undici#5474); 7.30.2, the last 7.x, still has it. The project is on undici 8:
 * this test keeps it from going back.
 */
import { describe, expect, it } from "vitest";
import { runScript } from "../support/run-process";

describe("a file host closing the connection while the range body is paused", () => {
  it("does not crash the process (undici#5360, fixed in undici 8)", { timeout: 30_000 }, async () => {
    const { code, stdout, stderr } = await runScript("chaos/repro/paused-fin.ts");
    const output = stdout + stderr;
    expect(output).toContain("survived");
    expect(code, output).toBe(0);
  });
});
