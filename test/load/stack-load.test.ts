/**
 * CI-sized versions of test/load/send-link.ts and test/load/archive-jobs.ts (run those by hand for the full
 * figures): send-link at 50 req/s for 5 s, and 30 archive jobs (plus redelivered and duplicate webhooks)
 * through the local stack's queue. One `npm start` stack in a child process on free ports serves both.
 *
 * Opt-in, not part of `npm test`: `LOAD_TESTS=1 npx vitest run test/load` (~45 s alone). Inside the full
 * suite on two cores it ran past a minute and missed its rate, and it would build the functions into the
 * same .esbuild/ folder as test/local-stack.test.ts's stack at the same time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { archiveJobsProblems, formatArchiveJobsFigures, runArchiveJobsLoad } from "./archive-jobs";
import { formatSendLinkFigures, runSendLinkLoad, sendLinkProblems } from "./send-link";

const enabled = process.env.LOAD_TESTS === "1";
let stack: LocalStack;

beforeAll(async () => {
  if (enabled) stack = await startLocalStack({ POWERTOOLS_LOG_LEVEL: "ERROR" });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!enabled)("load through the local stack (LOAD_TESTS=1)", () => {
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
});
