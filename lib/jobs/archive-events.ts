import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSRecord } from "aws-lambda";
import type { ArchiveResult } from "../archive/archive-file";
import { type ArchiveError, isArchiveRetryLater, toArchiveError } from "../archive/errors";
import { AppError } from "../errors";
import { logger } from "../logging";
import { countMetricBy, recordFileArchived } from "../metrics";
import { detectTrigger, unwrapEnvelope, unwrapMessageBody } from "../triggers/detect";
import { parseOrThrow } from "../validation";
import { type ArchiveJob, archiveJobSchema } from "./archive-job";
import { enqueue } from "./queue";

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
  /** Stop starting parts when less than this much invocation time is left. */
  stopMarginMs: number;
}

/**
 * The archive worker's one entry point (queue-only: `POST /webhooks/archive` is the archive-intake function):
 * - SQS: run each job; a job that ran out of time goes back to the queue and resumes from its checkpoint,
 *   `fileArchived` goes back with a delay, a permanent failure goes to the dead-letter queue with its reason,
 *   and a transient one is reported as a batch item failure so SQS redelivers it;
 * - EventBridge (`ArchiveRequested`) or a direct invoke: run the job now (continuations via the queue).
 */
export async function handleArchiveEvent(
  event: unknown,
  context: Context,
  getDeps: () => Promise<ArchiveEventDeps>,
): Promise<SQSBatchResponse | ArchiveRunOutcome | { status: "requeued" | "dead-lettered"; reason?: string }> {
  const trigger = detectTrigger(event);
  if (trigger.kind === "http") {
    // The worker has no HTTP route; an HTTP event here is a misrouted invoke, not a job.
    throw new AppError(
      400,
      "InvalidEvent",
      "the archive worker takes queue jobs only; POST /webhooks/archive goes to archive-intake",
    );
  }
  const deps = await getDeps();
  switch (trigger.kind) {
    case "sqs":
      return processPartialResponse(
        trigger.event,
        (record: SQSRecord) => runRecord(record, context, deps),
        new BatchProcessor(EventType.SQS),
        { throwOnFullBatchFailure: false },
      );
    case "eventbridge":
      return runJob(parseJob(trigger.event.detail), context, deps, trigger.event.id);
    case "sns": {
      const message = unwrapMessageBody(trigger.event.Records[0]?.Sns?.Message ?? "");
      return runJob(parseJob(message.payload), context, deps, trigger.event.Records[0]?.Sns?.MessageId);
    }
    case "direct": {
      const message = unwrapEnvelope(trigger.event);
      return runJob(parseJob(message.payload), context, deps, message.id);
    }
  }
}

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
  // Every line logged while this job runs (lib/archive's "archived", progress) carries its id.
  logger.appendKeys({ jobId });
  try {
    const outcome = await deps.runJob(job, {
      shouldStop: () => context.getRemainingTimeInMillis() < deps.stopMarginMs,
    });
    if (outcome.status === "paused") {
      await enqueue(deps.sqs, deps.queueUrl, { ...job, jobId });
      logger.info("archive paused for lack of time; continues from its checkpoint", log);
      return { status: "requeued" as const };
    }
    if (outcome.status === "archived") recordFileArchived(outcome);
    return outcome;
  } catch (thrown) {
    const error = toArchiveError(thrown, `archive ${job.spaceId}/${job.dentryId}`);
    if (!isArchiveRetryLater(error)) countMetricBy("ArchiveFailures", "Code", error.code);
    if (isArchiveRetryLater(error)) {
      await enqueue(deps.sqs, deps.queueUrl, { ...job, jobId }, error.retryAfterMs / 1000);
      logger.info("archive deferred", { ...log, code: error.code, retryAfterMs: error.retryAfterMs });
      return { status: "requeued" as const, reason: error.code };
    }
    if (!error.retryable) {
      await enqueue(deps.sqs, deps.deadLetterQueueUrl, { job: { ...job, jobId }, error: describe(error) });
      logger.error("archive failed permanently; job dead-lettered", { ...log, error: describe(error) });
      return { status: "dead-lettered" as const, reason: error.message };
    }
    logger.warn("archive failed; the queue will retry", { ...log, error: describe(error) });
    throw new AppError(502, error.code, error.message, { requestId: error.requestId, cause: error });
  } finally {
    logger.removeKeys(["jobId"]);
  }
}

function describe(error: ArchiveError) {
  return { code: error.code, message: error.message, requestId: error.requestId, status: error.status };
}
