/**
 * CI-sized versions of the load scripts beside this file (run those by hand for the full figures):
 * send-link at 50 req/s for 5 s, and 30 archive jobs (plus redelivered and duplicate webhooks) through the
 * local stack's queue — one `npm start` stack in a child process on free ports serves both — and 30 jobs
 * through 5 queue workers running the archive handler (the deployed concurrency cap).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveJobsProblems, formatArchiveJobsFigures, runArchiveJobsLoad } from "./archive-jobs";
import {
  archiveWorkersProblems,
  formatArchiveWorkersFigures,
  runArchiveWorkersLoad,
} from "./archive-workers";
import { formatSendLinkFigures, runSendLinkLoad, sendLinkProblems } from "./send-link";
import { type LocalStack, startLocalStack } from "./stack";

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ POWERTOOLS_LOG_LEVEL: "ERROR" });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe("load through the local stack", () => {
  it("send-link: 50 req/s for 5 s, each freshly signed: no errors, one link per answer", {
    timeout: 60_000,
  }, async () => {
    const figures = await runSendLinkLoad(stack, { rate: 50, duration: 5, connections: 5 });
    console.log(formatSendLinkFigures(figures));
    expect(sendLinkProblems(figures), formatSendLinkFigures(figures)).toEqual([]);
  });

  it("30 archive jobs through the queue: each file archived once, no range fetched twice", {
    timeout: 120_000,
  }, async () => {
    const figures = await runArchiveJobsLoad(stack, {
      jobs: 30,
      redeliveries: 3,
      duplicates: 3,
      timeoutSeconds: 100,
      verifySample: 5,
    });
    console.log(formatArchiveJobsFigures(figures));
    expect(archiveJobsProblems(figures), formatArchiveJobsFigures(figures)).toEqual([]);
  });

  it("30 archive jobs through 5 workers at once (the cap): each file archived once", {
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
  });
});
