import * as z from "../schema";
import { type Env, hostList, httpUrl, keyPrefix, loadSection, wholeNumber } from "./section";

/** Hosts DingTalk's signed download URLs point at (storage on Alibaba Cloud OSS behind DingTalk domains). */
export const DEFAULT_DOWNLOAD_ALLOWED_HOSTS = ["*.dingtalk.com", "*.aliyuncs.com"];

const MiB = 1024 * 1024;

const s3BucketName = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid S3 bucket name"));

export function loadArchiveConfig(env: Env = process.env): ArchiveConfig {
  return loadSection(
    env,
    {
      ARCHIVE_BUCKET: s3BucketName,
      ARCHIVE_PREFIX: keyPrefix,
    },
    (section) => ({ bucket: section.ARCHIVE_BUCKET, prefix: section.ARCHIVE_PREFIX }),
  );
}

export interface ArchiveConfig {
  bucket: string;
  /** Prepended to every key; empty or ending in "/". */
  prefix: string;
}

export interface TransferConfig {
  partSize: number;
  concurrency: number;
  /** Hosts (host[:port] or *.suffix) that signed download URLs may point at. */
  downloadAllowedHosts: string[];
  /** Of those, the ones plain http is accepted for: only a local sandbox (`DOWNLOAD_ALLOW_HTTP_HOSTS`). */
  allowHttpHosts: string[];
}

export function loadTransferConfig(env: Env = process.env): TransferConfig {
  return loadSection(
    env,
    {
      TRANSFER_PART_SIZE: z._default(wholeNumber(5 * MiB, 5 * 1024 * MiB), 8 * MiB),
      TRANSFER_CONCURRENCY: z._default(wholeNumber(1, 64), 8),
      DOWNLOAD_ALLOWED_HOSTS: z.optional(hostList),
      DOWNLOAD_ALLOW_HTTP_HOSTS: z.optional(hostList),
    },
    (section) => ({
      partSize: section.TRANSFER_PART_SIZE,
      concurrency: section.TRANSFER_CONCURRENCY,
      downloadAllowedHosts: section.DOWNLOAD_ALLOWED_HOSTS ?? DEFAULT_DOWNLOAD_ALLOWED_HOSTS,
      allowHttpHosts: section.DOWNLOAD_ALLOW_HTTP_HOSTS ?? [],
    }),
  );
}

export interface SendLinkQueueConfig {
  /** Optional: where queued send-link requests that can never succeed go, with their reason. */
  deadLetterQueueUrl: string | undefined;
}

export function loadSendLinkQueueConfig(env: Env = process.env): SendLinkQueueConfig {
  return loadSection(env, { SEND_LINK_DLQ_URL: z.optional(httpUrl) }, (section) => ({
    deadLetterQueueUrl: section.SEND_LINK_DLQ_URL,
  }));
}

/** The archive intake only queues jobs: its queue's URL. */
export function loadArchiveIntakeQueueConfig(env: Env = process.env): { queueUrl: string } {
  return loadSection(env, { ARCHIVE_QUEUE_URL: httpUrl }, (section) => ({
    queueUrl: section.ARCHIVE_QUEUE_URL,
  }));
}

export interface ArchiveQueueConfig {
  /** The archive job queue: webhooks and events enqueue here; paused and deferred jobs return here. */
  queueUrl: string;
  /** Where permanently failed jobs go, with their reason. */
  deadLetterQueueUrl: string;
  /** Stop starting parts when the invocation has less than this left, seconds. */
  stopMarginSeconds: number;
  /** When a requeued job gives up (lib/archive-worker/requeue.ts): failed attempts, age, longest wait. */
  requeueLimits: { maxAttempts: number; maxAgeMs: number; maxBackoffMs: number };
}

export function loadArchiveQueueConfig(env: Env = process.env): ArchiveQueueConfig {
  return loadSection(
    env,
    {
      ARCHIVE_QUEUE_URL: httpUrl,
      ARCHIVE_DLQ_URL: httpUrl,
      ARCHIVE_STOP_MARGIN_SECONDS: z._default(wholeNumber(10, 600), 90),
      ARCHIVE_MAX_ATTEMPTS: z._default(wholeNumber(1, 100), 10),
      ARCHIVE_MAX_AGE_HOURS: z._default(wholeNumber(1, 24 * 30), 48),
    },
    (section) => ({
      queueUrl: section.ARCHIVE_QUEUE_URL,
      deadLetterQueueUrl: section.ARCHIVE_DLQ_URL,
      stopMarginSeconds: section.ARCHIVE_STOP_MARGIN_SECONDS,
      requeueLimits: {
        maxAttempts: section.ARCHIVE_MAX_ATTEMPTS,
        maxAgeMs: section.ARCHIVE_MAX_AGE_HOURS * 3600_000,
        // Doubling from DingTalk's 5 minutes: 5, 10, 20 ... min, then every 6 hours.
        maxBackoffMs: 6 * 3600_000,
      },
    }),
  );
}
