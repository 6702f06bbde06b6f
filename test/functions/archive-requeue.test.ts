/**
 * Every requeue of the archive worker is counted and bounded, through the real handler, fauxqs queues and
 * the sandbox: a file answering `fileArchived` forever ends in the dead-letter queue with that reason after
 * ARCHIVE_MAX_ATTEMPTS, its waits growing from 5 minutes, and the DingTalk calls it spent are counted.
 * The clock (Date only) is moved forward instead of waiting hours.
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Sandbox } from "../../sandbox/server";
import { invoke, QUEUES, useHandler, useStack } from "../support/handler-stack";
import { sampleEvent } from "../support/lambda";

const MAX_ATTEMPTS = 4;

let sandbox: Sandbox;

const stack = useStack({
  env: { ARCHIVE_MAX_ATTEMPTS: String(MAX_ATTEMPTS), ARCHIVE_MAX_AGE_HOURS: "48" },
});
const handler = useHandler("archive");
beforeAll(async () => {
  sandbox = stack.sandbox;
});
beforeEach(() => {
  sandbox.clearFaults();
  sandbox.resetCalls();
  stack.emulator.reset();
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
});
afterEach(() => vi.useRealTimers());

interface Queued {
  body: Record<string, unknown>;
  delaySeconds: number;
}

/** Every message of a queue (ready or delayed), with the delay SQS was asked for. */
function inQueue(name: string): Queued[] {
  const state = stack.emulator.inspectQueue(name);
  if (!state) throw new Error(`no queue ${name}`);
  return [...state.messages.ready, ...state.messages.delayed].map((m) => ({
    body: JSON.parse(m.body) as Record<string, unknown>,
    delaySeconds: Math.round((m.delayUntil ?? Date.now()) / 1000 - Date.now() / 1000),
  }));
}

/** Take every message off the archive and dead-letter queues (as the next delivery would). */
function drain(): { queued: Queued[]; dead: Array<Record<string, unknown>> } {
  const queued = inQueue(QUEUES.archive);
  const dead = inQueue(QUEUES.archiveDlq).map((m) => m.body);
  stack.emulator.reset();
  return { queued, dead };
}

function sqsEventOf(body: unknown, messageId: string): SQSEvent {
  const template = sampleEvent<SQSEvent>("archive.sqs.json").Records[0] as SQSEvent["Records"][number];
  return { Records: [{ ...template, messageId, body: JSON.stringify(body) }] };
}

describe("a file answering fileArchived forever", () => {
  it("backs off 5, 10, 20 min and ends in the dead-letter queue with that reason; DingTalk calls bounded", async () => {
    sandbox.addFaults({ api: "downloadInfo", kind: "fileArchived" });
    const dentryId = sandbox.putGeneratedFile({ name: "cold-forever.bin", size: 1000, seed: "cold-forever" });
    let message: Record<string, unknown> = { spaceId: "sandbox-space", dentryId, jobId: "job-cold" };
    const waitsMin: number[] = [];
    let deliveries = 0;
    let dead: Array<Record<string, unknown>> = [];
    for (let round = 0; round < 50; round++) {
      const attemptsBefore = sandbox.calls().downloadInfo;
      const result = await invoke<SQSBatchResponse>(handler, sqsEventOf(message, `m-${round}`));
      deliveries++;
      expect(result.batchItemFailures).toEqual([]);
      const { queued, dead: parked } = drain();
      dead = [...dead, ...parked];
      if (queued.length === 0) break;
      expect(queued).toHaveLength(1);
      const next = queued[0] as Queued;
      // The wait asked of SQS (at most 15 min), plus what the job carries beyond it.
      const notBefore = next.body.notBefore as number | undefined;
      const waitMs = notBefore === undefined ? next.delaySeconds * 1000 : notBefore - Date.now();
      if (sandbox.calls().downloadInfo > attemptsBefore) waitsMin.push(Math.round(waitMs / 60_000));
      // SQS delivers it when its delay is over.
      vi.setSystemTime(Date.now() + next.delaySeconds * 1000);
      message = next.body;
    }
    expect(waitsMin).toEqual([5, 10, 20]);
    const letters = dead as Array<{
      job: { attempts: { failed: number } };
      error: { code: string; message: string };
    }>;
    expect(letters).toHaveLength(1);
    expect(letters[0]?.error.code).toBe("fileArchived");
    expect(letters[0]?.error.message).toMatch(/^fileArchived: gave up after 4 failed attempts over 35 min/);
    expect(letters[0]?.job.attempts.failed).toBe(MAX_ATTEMPTS);
    // One download-info call per attempt (the metered calls this costs), none for the hops that only wait.
    const calls = sandbox.calls();
    expect(calls.downloadInfo).toBe(MAX_ATTEMPTS);
    expect(calls.getDentry).toBe(MAX_ATTEMPTS);
    expect(deliveries).toBeGreaterThan(MAX_ATTEMPTS);
    console.info(
      `fileArchived forever: ${deliveries} deliveries, DingTalk calls ${JSON.stringify(calls)}, waits ${waitsMin.join(", ")} min`,
    );
  });

  it("ends by age too: a failed attempt after ARCHIVE_MAX_AGE_HOURS dead-letters the job", async () => {
    sandbox.addFaults({ api: "downloadInfo", kind: "fileArchived" });
    const dentryId = sandbox.putGeneratedFile({ name: "cold-old.bin", size: 1000, seed: "cold-old" });
    const firstAt = Date.now() - 49 * 3600_000;
    const job = {
      spaceId: "sandbox-space",
      dentryId,
      jobId: "job-old",
      attempts: { firstAt, failed: 1, continued: 0, recent: [] },
    };
    await invoke<SQSBatchResponse>(handler, sqsEventOf(job, "m-old"));
    const { queued, dead: parked } = drain();
    expect(queued).toEqual([]);
    const dead = parked as Array<{ error: { code: string; message: string } }>;
    expect(dead[0]?.error).toMatchObject({
      code: "fileArchived",
      message: expect.stringMatching(/gave up after 49 h/),
    });
  });

  it("still throttled after the client's retries: a counted attempt, back in 1 min, not an instant redelivery", async () => {
    sandbox.addFaults({ api: "downloadInfo", kind: "qpsLimit" });
    const dentryId = sandbox.putGeneratedFile({ name: "busy.bin", size: 10, seed: "busy" });
    const result = await invoke<SQSBatchResponse>(
      handler,
      sqsEventOf({ spaceId: "sandbox-space", dentryId }, "m-busy"),
    );
    expect(result.batchItemFailures).toEqual([]);
    const { queued, dead } = drain();
    expect(dead).toEqual([]);
    expect(queued).toHaveLength(1);
    expect(queued[0]?.delaySeconds).toBe(60);
    expect(queued[0]?.body.attempts).toMatchObject({
      failed: 1,
      recent: [
        expect.objectContaining({ reason: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", counted: true }),
      ],
    });
  }, 30_000);

  it("a job waiting out a long delay goes back without calling DingTalk", async () => {
    const dentryId = sandbox.putGeneratedFile({ name: "later.bin", size: 10, seed: "later" });
    const job = { spaceId: "sandbox-space", dentryId, jobId: "job-later", notBefore: Date.now() + 3600_000 };
    await invoke<SQSBatchResponse>(handler, sqsEventOf(job, "m-later"));
    const { queued } = drain();
    expect(queued.map((q) => q.body)).toEqual([job]);
    expect(queued[0]?.delaySeconds).toBeGreaterThanOrEqual(899);
    expect(sandbox.calls().downloadInfo + sandbox.calls().getDentry).toBe(0);
  });
});
