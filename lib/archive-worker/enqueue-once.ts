import { randomUUID } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ArchiveRequest } from "../archive/request";
import { enqueue } from "../aws/queue";
import type { IdempotencyConfig } from "../config";
import { type Idempotent, idempotentByKey } from "../idempotency";

/**
 * Queue an archive job at most once per delivery key, with a fresh `jobId` (the id the job's log lines
 * carry through every requeue): what a producer of archive jobs (archive-intake, dingtalk-events) does.
 * A redelivery with the same key answers the first job's id and queues nothing. `scope` keeps the
 * producers' keys apart in the idempotency table.
 */
export function enqueueArchiveJobOnce(
  scope: string,
  sqs: SQSClient,
  queueUrl: string,
  idempotency: IdempotencyConfig,
): Idempotent<ArchiveRequest, { jobId: string }> {
  return idempotentByKey(
    scope,
    async (request: ArchiveRequest) => {
      const jobId = randomUUID();
      await enqueue(sqs, queueUrl, { ...request, jobId });
      return { jobId };
    },
    idempotency,
  );
}
