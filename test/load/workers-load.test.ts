/**
 * CI-sized version of test/load/archive-workers.ts: 30 archive jobs through 5 worker processes running the
 * real archive handler off the queue (the deployed maximumConcurrency), sandbox, fauxqs and dynalite in this
 * process. Every file archived once, no range fetched twice; two files queued twice back to back end
 * byte-exact (how often both jobs transfer them is printed, not asserted: nothing in the design prevents it).
 */
import { describe, expect, it } from "vitest";
import {
  archiveWorkersProblems,
  formatArchiveWorkersFigures,
  runArchiveWorkersLoad,
} from "./archive-workers";

describe("archive jobs through the queue at the concurrency cap", () => {
  it("30 jobs, 5 workers at once: each file archived once, no range fetched twice", {
    timeout: 90_000,
  }, async () => {
    const figures = await runArchiveWorkersLoad({
      jobs: 30,
      workers: 5,
      duplicates: 2,
      timeoutSeconds: 80,
      verifySample: 5,
    });
    console.log(formatArchiveWorkersFigures(figures));
    expect(archiveWorkersProblems(figures), formatArchiveWorkersFigures(figures)).toEqual([]);
    expect(figures.maxRunning).toBeGreaterThan(1);
  });
});
