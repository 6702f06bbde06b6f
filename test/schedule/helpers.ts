/**
 * The schedule tests' world: the one test world (the DingTalk sandbox with its sample tree: nested folders,
 * `many/` with 120 files; fauxqs for S3 + SQS) with the schedule's queues, and a real DingTalk client.
 * Nothing mocked.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { archiveKey } from "../../lib/archive";
import type { ArchiveJob } from "../../lib/archive-worker/archive-job";
import { createDingTalkClient, type DingTalkClient } from "../../lib/dingtalk";
import type { ScanCursor } from "../../lib/schedule/cursor";
import type { RunDeps } from "../../lib/schedule/run";
import type { Sandbox, SandboxOptions } from "../../sandbox/server";
import { startWorld, type World, type WorldOptions } from "../support/world";

export const BUCKET = "schedule-test";
export const PREFIX = "dingtalk/";
export const QUEUES = { archive: "archive-jobs", scan: "archive-scan" };
export const SPACE = "sandbox-space";

/** The sandbox's sample tree (sandbox/tree.ts addSampleTree). */
export const SAMPLE = {
  /** 9 files outside `many/`, 120 inside. */
  files: 129,
  /** The root included: root, media, docs, docs/2026, docs/2026/q1, docs/archive, empty-folder, many. */
  folders: 8,
  /** One listing page per folder, but `many/` (120 entries) takes three pages of 50. */
  pages: 10,
} as const;

export interface ScheduleWorld extends World {
  dingtalk: DingTalkClient;
  /** Listing answers pass through this (e.g. to mark files DELETED): the sandbox has no deleted files. */
  rewriteListing: { current?: (dentry: Record<string, unknown>) => Record<string, unknown> };
  deps(overrides?: Partial<RunDeps>): RunDeps;
  /** Jobs (cursors) waiting in the archive (scan) queue, ready or delayed. */
  jobs(): ArchiveJob[];
  cursors(): ScanCursor[];
  /** The same, emptying the queue (fauxqs' reset() would empty the bucket too). */
  drainJobs(): Promise<ArchiveJob[]>;
  drainCursors(): Promise<ScanCursor[]>;
  /** Put a (tiny) object where the archive function would have put this version, as if it had run. */
  markArchived(job: ArchiveJob, name?: string): Promise<void>;
  /** Calls per DingTalk API made while `body` ran. */
  countCalls<T>(body: () => Promise<T>): Promise<{ result: T; calls: ReturnType<Sandbox["calls"]> }>;
}

/** The one world (test/support/world.ts) with the schedule's queues, plus the run's deps. */
export async function startScheduleWorld(
  sandbox: SandboxOptions = {},
  more: Pick<WorldOptions, "dynamo"> = {},
): Promise<ScheduleWorld> {
  const world = await startWorld({ ...more, sandbox, bucket: BUCKET, queues: [QUEUES.archive, QUEUES.scan] });
  const { s3, sqs, queueUrl } = world;
  const rewriteListing: ScheduleWorld["rewriteListing"] = {};
  const dingtalk = createDingTalkClient({
    baseUrl: world.sandbox.url,
    appKey: world.sandbox.options.appKey,
    appSecret: world.sandbox.options.appSecret,
    retry: { maxAttempts: 2, baseDelayMs: 1, qpsLimitDelayMs: 2, maxDelayMs: 5, maxTotalMs: 2_000 },
    fetch: async (input, init) => {
      const answer = await fetch(input, init);
      const rewrite = rewriteListing.current;
      if (!rewrite || !answer.ok || !new Request(input, init).url.includes("/dentries?")) return answer;
      const body = (await answer.json()) as { dentries?: Record<string, unknown>[] };
      body.dentries = body.dentries?.map(rewrite);
      return new Response(JSON.stringify(body), { status: answer.status, headers: answer.headers });
    },
  });
  const drain = async <T>(name: string): Promise<T[]> => {
    const bodies = world.messages<T>(name);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl(name) }));
    return bodies;
  };
  return {
    ...world,
    dingtalk,
    rewriteListing,
    jobs: () => world.messages<ArchiveJob>(QUEUES.archive),
    cursors: () => world.messages<ScanCursor>(QUEUES.scan),
    drainJobs: () => drain<ArchiveJob>(QUEUES.archive),
    drainCursors: () => drain<ScanCursor>(QUEUES.scan),
    async markArchived(job, name = job.listed?.name ?? "file.bin") {
      const key = archiveKey({
        prefix: PREFIX,
        spaceId: job.spaceId,
        dentryId: job.dentryId,
        version: job.version as number,
        name,
      });
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "x" }));
    },
    async countCalls(body) {
      world.sandbox.resetCalls();
      const result = await body();
      return { result, calls: world.sandbox.calls() };
    },
    deps: (overrides = {}) => ({
      dingtalk,
      s3,
      sqs,
      bucket: BUCKET,
      prefix: PREFIX,
      archiveQueueUrl: queueUrl(QUEUES.archive),
      scanQueueUrl: queueUrl(QUEUES.scan),
      defaultUnionId: world.sandbox.options.unionId,
      shouldStop: () => false,
      send: { baseDelayMs: 1 },
      ...overrides,
    }),
  };
}

/** "dentryId@version" of each job, sorted: what a run queued, comparable across runs. */
export function fileVersions(jobs: readonly ArchiveJob[]): string[] {
  return jobs.map((job) => `${job.dentryId}@${job.version}`).sort();
}
