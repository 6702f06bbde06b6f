import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import type { ArchiveResult } from "../archive/archive-file";
import { ArchiveError, isArchiveRetryLater, toArchiveError } from "../archive/errors";
import { enqueue } from "../aws/queue";
import { quotaExhaustedIn } from "../budget/errors";
import { AppError } from "../errors";
import { dispositionOf } from "../failure";
import { logger } from "../logging";
import { countMetricBy, recordFileArchived } from "../metrics";
import { unwrapMessageBody } from "../triggers/detect";
import { type Delivery, eachRecord, triggerHandler } from "../triggers/dispatch";
import { unionIdRefusal } from "../union-ids";
import { parseOrThrow } from "../validation";
import { type ArchiveJob, archiveJobSchema } from "./archive-job";
import {
  decideRequeue,
  formatDuration,
  type Requeue,
  type RequeueLimits,
  sqsDelaySeconds,
  waitingForQuota,
} from "./requeue";

/** How one archive run ended (archived, skipped, or paused for lack of time). */
export type ArchiveRunOutcome = ArchiveResult;

export interface ArchiveRunControl {
  /** True when the invocation is about to run out of time: start no new part, checkpoint, return paused. */
  shouldStop: () => boolean;
}

export interface ArchiveEventDeps {
  /** Archive one file (lib/archive's archiveFile with its clients bound). */
  runJob: (job: ArchiveJob, control: ArchiveRunControl) => Promise<ArchiveRunOutcome>;
  sqs: SQSClient;
  /** The archive queue: paused and retry-later jobs go back here. */
  queueUrl: string;
  /** Permanent failures go here with their reason instead of being retried (each retry costs API quota). */
  deadLetterQueueUrl: string;
  /** ALLOWED_UNION_IDS: a job naming another union id is refused (dead-lettered with unionIdNotAllowed). */
  allowedUnionIds: readonly string[];
  /** Stop starting parts when less than this much invocation time is left. */
  stopMarginMs: number;
  /** When a requeued job gives up (ARCHIVE_MAX_ATTEMPTS, ARCHIVE_MAX_AGE_HOURS). */
  requeueLimits: RequeueLimits;
  /** Clock for the attempt history and waits. Default Date.now. */
  now?: () => number;
  /** A job was put back to wait for the month's DingTalk calls (the "jobs waiting on the budget" metric). */
  onQuotaWait?: () => void;
}

/**
 * The archive worker's one entry point (queue-only: `POST /webhooks/archive` is the archive-intake function):
 * - SQS: run each job; a job that ran out of time goes back to the queue and resumes from its checkpoint,
 *   `fileArchived` goes back with a growing delay, each requeue counted and bounded (requeue.ts), a
 *   permanent failure goes to the dead-letter queue with its reason, and a transient one is reported as a
 *   batch item failure so SQS redelivers it (its redrive policy bounds those);
 * - EventBridge (`ArchiveRequested`) or a direct invoke: run the job now (continuations via the queue).
 */
export const handleArchiveEvent = triggerHandler(
  "the archive worker",
  (context, getDeps: () => Promise<ArchiveEventDeps>) => {
    const run = async ({ payload, id }: Delivery) => {
      const deps = await getDeps();
      return runJob(parseJob(payload), context, deps, id);
    };
    return {
      sqs: async (sqs: SQSEvent) => {
        const deps = await getDeps();
        return eachRecord(sqs, (record) => runRecord(record, context, deps));
      },
      eventbridge: run,
      sns: run,
      direct: run,
    };
  },
  // The worker has no HTTP route; an HTTP event here is a misrouted invoke, not a job.
  "it takes queue jobs only; POST /webhooks/archive goes to archive-intake",
);

function parseJob(payload: unknown): ArchiveJob {
  return parseOrThrow(archiveJobSchema, payload, "archive job");
}

async function runRecord(record: SQSRecord, context: Context, deps: ArchiveEventDeps) {
  let job: ArchiveJob;
  try {
    job = parseJob(unwrapMessageBody(record.body).payload);
  } catch (error) {
    // A malformed message will never succeed: dead-letter it with the reason now.
    const reason = error instanceof Error ? error.message : String(error);
    await enqueue(deps.sqs, deps.deadLetterQueueUrl, {
      body: record.body,
      error: { code: "InvalidJob", message: reason },
    });
    logger.warn("malformed archive job dead-lettered", { messageId: record.messageId, reason });
    return { status: "dead-lettered" as const, reason };
  }
  return runJob(job, context, deps, record.messageId);
}

async function runJob(job: ArchiveJob, context: Context, deps: ArchiveEventDeps, deliveryId?: string) {
  const jobId = job.jobId ?? deliveryId ?? context.awsRequestId;
  const log = { jobId, spaceId: job.spaceId, dentryId: job.dentryId };
  const now = deps.now ?? Date.now;
  if (job.notBefore !== undefined && now() < job.notBefore) {
    // A wait longer than SQS's 15-minute delay: back for the rest of it, without calling DingTalk.
    const waitMs = job.notBefore - now();
    await enqueue(deps.sqs, deps.queueUrl, { ...job, jobId }, sqsDelaySeconds(waitMs));
    logger.debug("archive job waits", { ...log, waitMs });
    return { status: "requeued" as const, reason: "waiting" };
  }
  // Every line logged while this job runs (lib/archive's "archived", progress) carries its id.
  logger.appendKeys({ jobId });
  try {
    const refusal = unionIdRefusal(job.unionId, deps.allowedUnionIds);
    if (refusal) {
      throw new ArchiveError({ code: refusal.code, message: refusal.message, status: refusal.status });
    }
    const outcome = await deps.runJob(job, {
      shouldStop: () => context.getRemainingTimeInMillis() < deps.stopMarginMs,
    });
    if (outcome.status === "paused") {
      return await requeue({ ...job, jobId }, { kind: "paused", partsDone: outcome.partsDone }, deps, log);
    }
    if (outcome.status === "archived") recordFileArchived(outcome);
    return outcome;
  } catch (thrown) {
    // The month's DingTalk calls are spent (our budget or DingTalk's quota): wait, never dead-letter, and
    // do not count it as a failed attempt nor toward the job's age. Checked again every 15 minutes (SQS's
    // longest delay; the check costs no DingTalk call), so a raised budget takes effect before the month turns.
    const quota = quotaExhaustedIn(thrown);
    if (quota) {
      const delaySeconds = sqsDelaySeconds(quota.retryAfterMs);
      await enqueue(
        deps.sqs,
        deps.queueUrl,
        waitingForQuota({ ...job, jobId }, delaySeconds * 1000),
        delaySeconds,
      );
      logger.info("archive waits for the monthly DingTalk call budget", {
        ...log,
        source: quota.source,
        resumeAt: new Date(quota.resumeAt).toISOString(),
      });
      deps.onQuotaWait?.();
      return { status: "requeued" as const, reason: quota.code };
    }
    const error = toArchiveError(thrown, `archive ${job.spaceId}/${job.dentryId}`);
    if (!isArchiveRetryLater(error)) countMetricBy("ArchiveFailures", "Code", error.code);
    const disposition = dispositionOf(error);
    switch (disposition.kind) {
      case "retryLater": {
        // A counted attempt with a growing wait (requeue.ts): fileArchived, an IP ban, or DingTalk still
        // throttling after the client's retries (a redelivery at once would be throttled again).
        const later: Requeue = {
          kind: "retry-later",
          reason: disposition.reason,
          retryAfterMs: Math.round(disposition.delaySeconds * 1000),
        };
        return await requeue({ ...job, jobId }, later, deps, log, describe(error));
      }
      case "deadLetter":
        await enqueue(deps.sqs, deps.deadLetterQueueUrl, { job: { ...job, jobId }, error: describe(error) });
        logger.error("archive failed permanently; job dead-lettered", { ...log, error: describe(error) });
        return { status: "dead-lettered" as const, reason: disposition.reason };
      case "retryNow":
        logger.warn("archive failed; the queue will retry", { ...log, error: describe(error) });
        throw new AppError(502, error.code, error.message, { requestId: error.requestId, cause: error });
    }
  } finally {
    logger.removeKeys(["jobId"]);
  }
}

/** Back to the queue (counted and delayed per requeue.ts), or to the dead-letter queue once the limits are spent. */
async function requeue(
  job: ArchiveJob,
  why: Requeue,
  deps: ArchiveEventDeps,
  log: Record<string, unknown>,
  error?: ReturnType<typeof describe>,
) {
  const decision = decideRequeue(job, why, (deps.now ?? Date.now)(), deps.requeueLimits);
  const attempts = decision.job.attempts;
  if (decision.action === "dead-letter") {
    const failure = { ...error, code: error?.code ?? "pausedWithoutProgress", message: decision.reason };
    await enqueue(deps.sqs, deps.deadLetterQueueUrl, { job: decision.job, error: failure });
    logger.error("archive gave up; job dead-lettered", { ...log, error: failure, attempts });
    return { status: "dead-lettered" as const, reason: decision.reason };
  }
  await enqueue(deps.sqs, deps.queueUrl, decision.job, sqsDelaySeconds(decision.delayMs));
  if (why.kind === "paused" && !decision.counted) {
    logger.info("archive paused for lack of time; continues from its checkpoint", { ...log, attempts });
  } else {
    logger.info("archive deferred", {
      ...log,
      code: why.kind === "paused" ? "pausedWithoutProgress" : why.reason,
      retryIn: formatDuration(decision.delayMs),
      failedAttempts: attempts?.failed,
      maxAttempts: deps.requeueLimits.maxAttempts,
    });
  }
  return why.kind === "paused"
    ? { status: "requeued" as const }
    : { status: "requeued" as const, reason: why.reason };
}

function describe(error: ArchiveError) {
  return { code: error.code, message: error.message, requestId: error.requestId, status: error.status };
}
