/**
 * Put many JSON messages on a queue in SendMessageBatch calls of 10 (SQS's maximum per call).
 * SQS may accept part of a batch: entries it failed on its side (not SenderFault) are sent again, a bounded
 * number of times with a short backoff; the rest are reported back, never silently dropped.
 */
import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { sqsSafeJson } from "../aws/queue";

/** SQS's limit of entries per SendMessageBatch. */
export const SQS_BATCH_SIZE = 10;

export interface BatchFailure<T> {
  message: T;
  code: string;
  reason: string;
  /** True when SQS blamed the request itself (too large, invalid): sending it again would fail the same way. */
  senderFault: boolean;
}

export interface SendBatchResult<T> {
  sent: number;
  failed: BatchFailure<T>[];
}

export interface SendBatchOptions {
  /** Attempts per entry, the first included. Default 3. */
  maxAttempts?: number;
  /** Wait before resending, doubled each time. Default 100 ms. */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Deliver every message after this many seconds (SQS allows 0–900). Default 0. */
  delaySeconds?: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Send `messages` (JSON-serialised), 10 per call; resolves with what was sent and what could not be. */
export async function sendMessageBatches<T>(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly T[],
  options: SendBatchOptions = {},
): Promise<SendBatchResult<T>> {
  const result: SendBatchResult<T> = { sent: 0, failed: [] };
  for (let start = 0; start < messages.length; start += SQS_BATCH_SIZE) {
    const batch = await sendOneBatch(sqs, queueUrl, messages.slice(start, start + SQS_BATCH_SIZE), options);
    result.sent += batch.sent;
    result.failed.push(...batch.failed);
  }
  return result;
}

async function sendOneBatch<T>(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly T[],
  options: SendBatchOptions,
): Promise<SendBatchResult<T>> {
  const maxAttempts = options.maxAttempts ?? 3;
  const sleep = options.sleep ?? realSleep;
  // Entry ids are the messages' indexes: unique within the batch, and they map failures back.
  let pending: SendMessageBatchRequestEntry[] = messages.map((message, i) => ({
    Id: String(i),
    MessageBody: sqsSafeJson(message),
    ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}),
  }));
  const failed: BatchFailure<T>[] = [];
  let sent = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > 1) await sleep((options.baseDelayMs ?? 100) * 2 ** (attempt - 2));
    const answer = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
    const succeeded = new Set((answer.Successful ?? []).map((entry) => entry.Id));
    sent += succeeded.size;
    const reasons = new Map((answer.Failed ?? []).map((entry) => [entry.Id, entry]));
    const retry: SendMessageBatchRequestEntry[] = [];
    for (const entry of pending) {
      if (succeeded.has(entry.Id)) continue;
      // An entry in neither list was not confirmed: treat it as a failure on SQS's side.
      const failure: BatchResultErrorEntry = reasons.get(entry.Id) ?? {
        Id: entry.Id,
        Code: "NotConfirmed",
        Message: "SQS did not confirm the entry",
        SenderFault: false,
      };
      if (!failure.SenderFault && attempt < maxAttempts) {
        retry.push(entry);
        continue;
      }
      failed.push({
        message: messages[Number(entry.Id)] as T,
        code: failure.Code ?? "Unknown",
        reason: failure.Message ?? "SQS gave no reason",
        senderFault: Boolean(failure.SenderFault),
      });
    }
    pending = retry;
  }
  return { sent, failed };
}
