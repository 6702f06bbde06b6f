/**
 * Load: archive jobs through the archive queue with the deployed concurrency cap (serverless.yml: SQS
 * `maximumConcurrency: 5`), which the local stack cannot show (serverless-offline-sqs runs one batch at a
 * time; see archive-jobs.ts). Here the one test world (sandbox, fauxqs for S3 + SQS, dynalite) runs in this process, and
 * `--workers` processes (test/load/sqs-worker.ts) each import the real archive handler and feed it from the
 * queue one message at a time, as Lambda's event source mapping does: at most `--workers` jobs at once, each
 * in its own "container".
 *
 *   node --import tsx test/load/archive-workers.ts [--jobs 200] [--workers 5] [--duplicates 10]
 *
 * Phase 1: `jobs` jobs for distinct files: every file archived once, at its size (byte-exact for a sample),
 * no range fetched twice (file-host calls = the parts the files need), one download-info call per file.
 * Phase 2: `duplicates` files each queued twice back to back (e.g. a DingTalk event and a scheduled run for
 * the same new file): both jobs may run at once; how many files were transferred twice is reported (nothing
 * in the design stops it; the object is still whole and exact).
 */
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { LOCAL_WEBHOOK_SECRETS } from "../../scripts/local-env";
import { type RunningProcess, startScript } from "../support/run-process";
import { startWorld, type World } from "../support/world";
import * as load from "./common";

const BUCKET = "load-archive";
const QUEUE = "load-archive-jobs";
const DLQ = "load-archive-jobs-dlq";

export interface ArchiveWorkersOptions {
  jobs: number;
  workers: number;
  duplicates: number;
  timeoutSeconds: number;
  verifySample: number;
}

export interface ArchiveWorkersFigures extends ArchiveWorkersOptions, load.ArchiveLoadFigures {
  maxRunning: number;
  invocations: number;
  failedInvocations: number;
  /** Phase 2: files queued twice back to back, and how many of them were transferred by both jobs. */
  duplicatePairs: number;
  duplicatesArchived: number;
  duplicatesTransferredTwice: number;
  duplicateRangesFetchedTwice: number;
}

interface LoadWorld extends World {
  /** The workers' environment: the archive function's, pointing at this world. */
  workerEnv: Record<string, string>;
}

/** The one world (test/support/world.ts) with the archive queue (and its dead-letter queue) and dynalite. */
async function startLoadWorld(): Promise<LoadWorld> {
  const world = await startWorld({
    bucket: BUCKET,
    queues: [{ name: QUEUE, deadLetter: DLQ, maxReceiveCount: 5 }],
    dynamo: "load-idempotency",
  });
  const workerEnv = world.env({
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    WEBHOOK_SECRET_SEND_LINK: LOCAL_WEBHOOK_SECRETS["send-link"],
    WEBHOOK_SECRET_ARCHIVE: LOCAL_WEBHOOK_SECRETS.archive,
    IDEMPOTENCY_TABLE: "load-idempotency",
    ARCHIVE_QUEUE_URL: world.queueUrl(QUEUE),
    ARCHIVE_DLQ_URL: world.queueUrl(DLQ),
    TRANSFER_PART_SIZE: String(load.PART_SIZE),
    TRANSFER_CONCURRENCY: "8",
    POWERTOOLS_LOG_LEVEL: "ERROR",
  });
  return { ...world, workerEnv };
}

interface Workers {
  running: () => number;
  maxRunning: () => number;
  invocations: () => number;
  failed: () => number;
  idleFor: () => number;
  /** Date.now() of the last job's end. */
  lastEnd: () => number;
  stop: () => Promise<void>;
}

async function startWorkers(world: LoadWorld, count: number): Promise<Workers> {
  let running = 0;
  let maxRunning = 0;
  let invocations = 0;
  let failed = 0;
  let lastActivity = Date.now();
  let lastEnd = 0;
  const children: RunningProcess[] = [];
  const ready: Promise<void>[] = [];
  let stderr = "";
  for (let i = 0; i < count; i++) {
    const worker = startScript("test/load/sqs-worker.ts", [], { env: world.workerEnv, stdin: "pipe" });
    children.push(worker);
    const { child } = worker;
    child.stderr?.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-5000);
    });
    let buffered = "";
    ready.push(
      new Promise((resolve, reject) => {
        child.once("exit", (code) =>
          reject(new Error(`worker ${i} exited (${code}) before it was ready:\n${stderr}`)),
        );
        child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
          buffered += chunk;
          let newline = buffered.indexOf("\n");
          while (newline >= 0) {
            const line = JSON.parse(buffered.slice(0, newline)) as { event: string; failed?: boolean };
            buffered = buffered.slice(newline + 1);
            lastActivity = Date.now();
            if (line.event === "ready") resolve();
            if (line.event === "start") {
              running++;
              invocations++;
              maxRunning = Math.max(maxRunning, running);
            }
            if (line.event === "end") {
              running--;
              lastEnd = Date.now();
              if (line.failed) failed++;
            }
            newline = buffered.indexOf("\n");
          }
        });
      }),
    );
  }
  await Promise.all(ready);
  return {
    running: () => running,
    maxRunning: () => maxRunning,
    invocations: () => invocations,
    failed: () => failed,
    idleFor: () => (running > 0 ? 0 : Date.now() - lastActivity),
    lastEnd: () => lastEnd,
    stop: async () => {
      await Promise.all(
        // A worker finishes its job and exits when its stdin ends; SIGKILL after 30 s.
        children.map((worker) => {
          worker.child.stdin?.end();
          return worker.stop("SIGKILL", 30_000).catch(() => undefined);
        }),
      );
    },
  };
}

async function enqueue(world: LoadWorld, jobs: Array<{ dentryId: string; jobId: string }>): Promise<void> {
  for (let i = 0; i < jobs.length; i += 10) {
    const batch = jobs.slice(i, i + 10);
    const answer = await world.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: world.queueUrl(QUEUE),
        Entries: batch.map((job, k) => ({
          Id: String(k),
          MessageBody: JSON.stringify({ spaceId: "sandbox-space", dentryId: job.dentryId, jobId: job.jobId }),
        })),
      }),
    );
    if ((answer.Failed ?? []).length > 0)
      throw new Error(`SendMessageBatch failed: ${JSON.stringify(answer.Failed)}`);
  }
}

/** Until the queue is empty and no worker has had a job for 3 s (a receive waits up to 1 s). */
async function drained(world: LoadWorld, workers: Workers, deadline: number): Promise<void> {
  for (;;) {
    const q = world.emulator.inspectQueue(QUEUE);
    const waiting =
      (q?.messages.ready.length ?? 0) +
      (q?.messages.delayed.length ?? 0) +
      (q?.messages.inflight.length ?? 0);
    if (waiting === 0 && workers.running() === 0 && workers.idleFor() > 3_000) return;
    if (Date.now() > deadline) throw new Error(`the queue did not drain in time (${waiting} messages left)`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const exact = (world: World, key: string, seed: string, size: number) =>
  load.isExact(world.s3, BUCKET, key, seed, size);

export async function runArchiveWorkersLoad(options: ArchiveWorkersOptions): Promise<ArchiveWorkersFigures> {
  const world = await startLoadWorld();
  let workers: Workers | undefined;
  try {
    const space = world.sandbox.options.spaceId;
    const newFiles = (folder: string, sizes: number[]) =>
      sizes.map((size, i) => {
        const name = `job-${i}.bin`;
        const dentryId = world.sandbox.putGeneratedFile({ name, size, parentPath: folder });
        return load.loadFile(space, folder, name, size, dentryId);
      });
    const sizes = load.jobSizes(options.jobs);
    const files = newFiles("workers", sizes);
    workers = await startWorkers(world, options.workers);
    const deadline = Date.now() + options.timeoutSeconds * 1000;

    // Phase 1: distinct files.
    world.sandbox.resetCalls();
    const started = Date.now();
    await enqueue(
      world,
      files.map((f, i) => ({ dentryId: f.dentryId, jobId: `job-${i}` })),
    );
    await drained(world, workers, deadline);
    const wallSeconds = (workers.lastEnd() - started) / 1000;
    const calls = world.sandbox.calls();
    let archived = 0;
    let wrongSize = 0;
    for (const f of files) {
      const head = await world.s3
        .send(new HeadObjectCommand({ Bucket: BUCKET, Key: f.key }))
        .catch(() => undefined);
      if (head) archived++;
      if (head && head.ContentLength !== f.size) wrongSize++;
    }
    const step = Math.max(1, Math.floor(files.length / options.verifySample));
    const sample = files.filter((_, i) => i % step === 0).slice(0, options.verifySample);
    let sampleExact = 0;
    for (const f of sample) if (await exact(world, f.key, f.seed, f.size)) sampleExact++;
    const phase1 = {
      invocations: workers.invocations(),
      failed: workers.failed(),
      maxRunning: workers.maxRunning(),
    };

    // Phase 2: each of `duplicates` files queued twice, back to back.
    const dupSizes = Array.from({ length: options.duplicates }, (_, i) => load.PART_SIZE * 2 + i * 100_003);
    const dups = newFiles("duplicates", dupSizes);
    world.sandbox.resetCalls();
    await enqueue(
      world,
      dups.flatMap((f, i) => [
        { dentryId: f.dentryId, jobId: `dup-${i}-a` },
        { dentryId: f.dentryId, jobId: `dup-${i}-b` },
      ]),
    );
    await drained(world, workers, deadline);
    const dupCalls = world.sandbox.calls();
    let duplicatesArchived = 0;
    for (const f of dups) {
      const ok = await world.s3
        .send(new HeadObjectCommand({ Bucket: BUCKET, Key: f.key }))
        .then((h) => h.ContentLength === f.size)
        .catch(() => false);
      if (ok && (await exact(world, f.key, f.seed, f.size))) duplicatesArchived++;
    }
    const dlq = world.emulator.inspectQueue(DLQ);

    return {
      ...options,
      ...load.sizeFigures(sizes),
      archived,
      wrongSize,
      sampleExact,
      sampleChecked: sample.length,
      fileHostCalls: { expected: load.rangesFor(sizes), actual: calls.file },
      downloadInfoCalls: { expected: files.length, actual: calls.downloadInfo },
      maxRunning: Math.max(phase1.maxRunning, workers.maxRunning()),
      invocations: phase1.invocations,
      failedInvocations: phase1.failed,
      deadLettered: (dlq?.messages.ready.length ?? 0) + (dlq?.messages.inflight.length ?? 0),
      wallSeconds,
      duplicatePairs: dups.length,
      duplicatesArchived,
      // One download-info call per transfer (a job that finds the file archived makes none; a restarted
      // transfer may make a second, so count by the ranges too).
      duplicatesTransferredTwice: Math.max(0, dupCalls.downloadInfo - dups.length),
      duplicateRangesFetchedTwice: Math.max(0, dupCalls.file - load.rangesFor(dupSizes)),
    };
  } finally {
    await workers?.stop();
    await world.stop();
  }
}

export function formatArchiveWorkersFigures(f: ArchiveWorkersFigures): string {
  return [
    `archive jobs, ${f.workers} workers (the deployed maximumConcurrency): ${load.describeFiles(f)}`,
    load.archivedLine(f),
    `  transfers       file-host calls ${f.fileHostCalls.actual} (expected ${f.fileHostCalls.expected}: one per part); download-info calls ${f.downloadInfoCalls.actual} (expected ${f.downloadInfoCalls.expected})`,
    `  workers         invocations ${f.invocations} (failed ${f.failedInvocations}); most at once ${f.maxRunning}; dead-lettered ${f.deadLettered}`,
    `  time            ${f.wallSeconds.toFixed(1)} s for ${f.jobs} jobs (${(f.jobs / f.wallSeconds).toFixed(1)} jobs/s)`,
    `  duplicates      ${f.duplicatePairs} files queued twice back to back: ${f.duplicatesArchived} archived byte-exact; transferred by both jobs ${f.duplicatesTransferredTwice}; ranges fetched twice ${f.duplicateRangesFetchedTwice}`,
  ].join("\n");
}

export function archiveWorkersProblems(f: ArchiveWorkersFigures): string[] {
  const problems = load.archiveLoadProblems(f);
  if (f.invocations !== f.jobs) problems.push(`${f.invocations} invocations for ${f.jobs} jobs`);
  if (f.maxRunning > f.workers) problems.push(`${f.maxRunning} jobs at once with ${f.workers} workers`);
  if (f.duplicatesArchived !== f.duplicatePairs)
    problems.push("a file queued twice is not archived byte-exact");
  return problems;
}

await load.runAsScript(
  import.meta.url,
  { jobs: 200, workers: 5, duplicates: 10, timeout: 900 },
  {
    run: ({ timeout, ...counts }) =>
      runArchiveWorkersLoad({ ...counts, timeoutSeconds: timeout, verifySample: 20 }),
    format: formatArchiveWorkersFigures,
    problems: archiveWorkersProblems,
  },
);
