/**
 * The schedule tests' world: the DingTalk sandbox (sample tree: nested folders, `many/` with 120 files) and
 * fauxqs (S3 + SQS) in this process on ephemeral ports, real AWS SDK clients configured as production's
 * (endpoint + path-style) and a real DingTalk client. Nothing mocked.
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PurgeQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { FauxqsServer } from "fauxqs";
import { archiveKey } from "../../lib/archive";
import type { ArchiveJob } from "../../lib/archive-worker/archive-job";
import { createDingTalkClient, type DingTalkClient } from "../../lib/dingtalk";
import type { ScanCursor } from "../../lib/schedule/cursor";
import type { RunDeps } from "../../lib/schedule/run";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../sandbox/server";
import { startLocalEmulator } from "../../scripts/local-services";

export const BUCKET = "schedule-test";
export const PREFIX = "dingtalk/";
export const QUEUES = { archive: "archive-jobs", scan: "archive-scan" };
export const SPACE = "sandbox-space";

/** Files of the sandbox's sample tree (sandbox/tree.ts addSampleTree): 9 outside `many/`, 120 inside. */
export const SAMPLE_FILES = 129;
/** Folders of the sample tree, the root included: root, media, docs, docs/2026, docs/2026/q1, docs/archive, empty-folder, many. */
export const SAMPLE_FOLDERS = 8;
/** One page per folder, but `many/` (120 entries) takes three pages of 50. */
export const SAMPLE_PAGES = 10;

export interface World {
  sandbox: Sandbox;
  emulator: FauxqsServer;
  s3: S3Client;
  sqs: SQSClient;
  dingtalk: DingTalkClient;
  queueUrl(name: string): string;
  /** Listing answers pass through this (e.g. to mark files DELETED): the sandbox has no deleted files. */
  rewriteListing: { current?: (dentry: Record<string, unknown>) => Record<string, unknown> };
  deps(overrides?: Partial<RunDeps>): RunDeps;
  close(): Promise<void>;
}

export async function startWorld(options: SandboxOptions = {}): Promise<World> {
  const sandbox = await startSandbox({ port: 0, ...options });
  const emulator = await startLocalEmulator(0, {
    buckets: [BUCKET],
    queues: [{ name: QUEUES.archive }, { name: QUEUES.scan }],
  });
  const aws = {
    endpoint: emulator.address,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const sqs = new SQSClient(aws);
  const rewriteListing: World["rewriteListing"] = {};
  const dingtalk = createDingTalkClient({
    baseUrl: sandbox.url,
    appKey: sandbox.options.appKey,
    appSecret: sandbox.options.appSecret,
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
  const queueUrl = (name: string) => `${emulator.address}/000000000000/${name}`;
  return {
    sandbox,
    emulator,
    s3,
    sqs,
    dingtalk,
    queueUrl,
    rewriteListing,
    deps: (overrides = {}) => ({
      dingtalk,
      s3,
      sqs,
      bucket: BUCKET,
      prefix: PREFIX,
      archiveQueueUrl: queueUrl(QUEUES.archive),
      scanQueueUrl: queueUrl(QUEUES.scan),
      defaultUnionId: sandbox.options.unionId,
      shouldStop: () => false,
      send: { baseDelayMs: 1 },
      ...overrides,
    }),
    close: async () => {
      s3.destroy();
      sqs.destroy();
      await sandbox.close();
      await emulator.stop();
    },
  };
}

/** Bodies of the messages waiting in a queue (ready or delayed), parsed. */
export function bodiesIn<T = Record<string, unknown>>(world: World, name: string): T[] {
  const state = world.emulator.inspectQueue(name);
  if (!state) throw new Error(`no queue ${name}`);
  return [...state.messages.ready, ...state.messages.delayed].map((m) => JSON.parse(m.body) as T);
}

export const jobsIn = (world: World) => bodiesIn<ArchiveJob>(world, QUEUES.archive);
export const cursorsIn = (world: World) => bodiesIn<ScanCursor>(world, QUEUES.scan);

/** "dentryId@version" of each job, sorted: what a run queued, comparable across runs. */
export function fileVersions(jobs: readonly ArchiveJob[]): string[] {
  return jobs.map((job) => `${job.dentryId}@${job.version}`).sort();
}

/** Put a (tiny) object where the archive function would have put this version, as if it had run. */
export async function markArchived(
  world: World,
  job: ArchiveJob,
  name = job.listed?.name ?? "file.bin",
): Promise<void> {
  const key = archiveKey({
    prefix: PREFIX,
    spaceId: job.spaceId,
    dentryId: job.dentryId,
    version: job.version as number,
    name,
  });
  await world.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "x" }));
}

/** Empty a queue, returning the bodies it held (fauxqs' reset() would empty the bucket too). */
export async function drain<T = Record<string, unknown>>(world: World, name: string): Promise<T[]> {
  const bodies = bodiesIn<T>(world, name);
  await world.sqs.send(new PurgeQueueCommand({ QueueUrl: world.queueUrl(name) }));
  return bodies;
}

export const drainJobs = (world: World) => drain<ArchiveJob>(world, QUEUES.archive);
export const drainCursors = (world: World) => drain<ScanCursor>(world, QUEUES.scan);

/** Calls per DingTalk API made while `body` ran. */
export async function countCalls<T>(world: World, body: () => Promise<T>) {
  world.sandbox.resetCalls();
  const result = await body();
  return { result, calls: world.sandbox.calls() };
}
