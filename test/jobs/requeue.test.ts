/** The requeue decision as a pure function: what counts, what waits, when a job ends. */
import type { SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { archiveJobSchema } from "../../lib/archive-worker/archive-job";
import {
  type AttemptHistory,
  DEFAULT_REQUEUE_LIMITS,
  decideRequeue,
  type Requeue,
  waitingForQuota,
} from "../../lib/archive-worker/requeue";
import { sampleEvent } from "../support/lambda";

const T0 = Date.UTC(2026, 10, 29, 10, 0);
const MIN = 60_000;
const fileArchived: Requeue = { kind: "retry-later", reason: "fileArchived", retryAfterMs: 5 * MIN };
const job = { spaceId: "26373617452", dentryId: "184463020201" };

/** Requeue `job` again and again with the same reason, moving the clock by each wait; the decisions. */
function run(why: (i: number) => Requeue, limits = DEFAULT_REQUEUE_LIMITS) {
  let current: typeof job & { attempts?: AttemptHistory; notBefore?: number } = job;
  let now = T0;
  const decisions = [];
  for (let i = 0; i < 100; i++) {
    const decision = decideRequeue(current, why(i), now, limits);
    decisions.push(decision);
    if (decision.action === "dead-letter") break;
    now += decision.delayMs;
    current = decision.job;
  }
  return decisions;
}

describe("decideRequeue", () => {
  it("fileArchived: waits grow 5 min → 6 h and the 10th failed attempt dead-letters the job", () => {
    const decisions = run(() => fileArchived);
    const waits = decisions.flatMap((d) => (d.action === "requeue" ? [d.delayMs / MIN] : []));
    expect(waits).toEqual([5, 10, 20, 40, 80, 160, 320, 360, 360]);
    const last = decisions.at(-1);
    expect(last).toMatchObject({
      action: "dead-letter",
      reason: expect.stringMatching(/^fileArchived: gave up after 10 failed attempts over 22\.6 h$/),
    });
    expect(last?.job.attempts).toMatchObject({ failed: 10, continued: 0 });
    expect(last?.job.attempts?.recent).toHaveLength(5);
  });

  it("a wait over SQS's 15 minutes is carried as notBefore; a shorter one is not", () => {
    const [first] = run(() => fileArchived);
    expect(first).toMatchObject({ action: "requeue", delayMs: 5 * MIN });
    expect(first?.job).not.toHaveProperty("notBefore");
    const third = run(() => fileArchived)[2];
    expect(third?.job.notBefore).toBe(T0 + 15 * MIN + 20 * MIN);
  });

  it("pauses that move forward are continuations: never counted, never dead-lettered", () => {
    const decisions = run((i) => ({ kind: "paused", partsDone: (i + 1) * 10 }), {
      ...DEFAULT_REQUEUE_LIMITS,
      maxAttempts: 2,
    });
    expect(decisions).toHaveLength(100);
    expect(decisions.every((d) => d.action === "requeue" && !d.counted && d.delayMs === 0)).toBe(true);
    expect(decisions.at(-1)?.job.attempts).toMatchObject({ failed: 0, continued: 100, partsDone: 1000 });
  });

  it("pauses without progress count, and end the job after the limit", () => {
    const decisions = run(() => ({ kind: "paused", partsDone: 7 }), {
      ...DEFAULT_REQUEUE_LIMITS,
      maxAttempts: 3,
    });
    // The first pause moved from nothing to 7 parts: a continuation; then 3 without progress.
    expect(decisions.map((d) => d.action)).toEqual(["requeue", "requeue", "requeue", "dead-letter"]);
    expect(decisions.at(-1)).toMatchObject({
      reason: expect.stringMatching(/^pausedWithoutProgress: gave up after 3 failed attempts/),
    });
  });

  it("ends by age: a failed attempt after maxAgeMs dead-letters even with attempts left", () => {
    const old = { ...job, attempts: { firstAt: T0 - 49 * 60 * MIN, failed: 1, continued: 0, recent: [] } };
    expect(decideRequeue(old, fileArchived, T0, DEFAULT_REQUEUE_LIMITS)).toMatchObject({
      action: "dead-letter",
      reason: expect.stringMatching(/gave up after 49 h \(limit 48 h\) and 2 failed attempts/),
    });
  });

  it("a continuation after the age limit still continues: progress is bounded by the file", () => {
    const old = {
      ...job,
      attempts: { firstAt: T0 - 100 * 60 * MIN, failed: 0, continued: 3, partsDone: 30, recent: [] },
    };
    expect(decideRequeue(old, { kind: "paused", partsDone: 40 }, T0, DEFAULT_REQUEUE_LIMITS)).toMatchObject({
      action: "requeue",
      counted: false,
    });
  });
});

describe("waitingForQuota", () => {
  it("a week spent waiting for the monthly quota is not age: the next failure is still requeued", () => {
    const week = 7 * 24 * 60 * MIN;
    const started = { ...job, attempts: { firstAt: T0 - 60 * MIN, failed: 1, continued: 0, recent: [] } };
    // Waited in 15-minute steps (SQS's longest delay) for a week; no attempt counted meanwhile.
    let waited = started;
    for (let t = 0; t < week; t += 15 * MIN) waited = waitingForQuota(waited, 15 * MIN);
    expect(waited.attempts.failed).toBe(1);
    expect(decideRequeue(waited, fileArchived, T0 + week, DEFAULT_REQUEUE_LIMITS)).toMatchObject({
      action: "requeue",
      counted: true,
    });
    // Without the adjustment the same failure would have dead-lettered the job for its age.
    expect(decideRequeue(started, fileArchived, T0 + week, DEFAULT_REQUEUE_LIMITS).action).toBe(
      "dead-letter",
    );
  });

  it("leaves a job with no history as it is", () => {
    const fresh: typeof job & { attempts?: AttemptHistory } = job;
    expect(waitingForQuota(fresh, 15 * MIN)).toEqual(job);
  });
});

describe("events/archive.sqs.requeued.json", () => {
  it("is a job the worker accepts, and its third fileArchived waits 20 min", () => {
    const sample = sampleEvent<SQSEvent>("archive.sqs.requeued.json");
    const job = archiveJobSchema.parse(JSON.parse(sample.Records[0]?.body ?? ""));
    expect(job.attempts).toMatchObject({ failed: 2, continued: 0 });
    const now = (job.attempts?.firstAt ?? 0) + 15 * MIN;
    expect(decideRequeue(job, fileArchived, now, DEFAULT_REQUEUE_LIMITS)).toMatchObject({
      action: "requeue",
      delayMs: 20 * MIN,
      counted: true,
    });
    // Two days later the same failure ends it.
    expect(decideRequeue(job, fileArchived, now + 48 * 60 * MIN, DEFAULT_REQUEUE_LIMITS).action).toBe(
      "dead-letter",
    );
  });
});
