import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import {
  LOCAL_BUCKET,
  LOCAL_QUEUES,
  type LocalStack,
  putSandboxFile,
  sandboxState,
  signedPost,
  startLocalStack,
} from "../support/local-stack";
import {
  type ArchiveLoadFigures,
  archivedLine,
  archiveLoadProblems,
  describeFiles,
  isExact,
  jobSizes,
  loadFile,
  rangesFor,
  runAsScript,
  sizeFigures,
} from "./common";

export interface ArchiveJobsOptions {
  jobs: number;
  /** Webhooks sent again with the same webhook-id (deduplicated: the same job id, no new job). */
  redeliveries: number;
  /** Files requested again with a new webhook-id (a second job, which must skip the archived file). */
  duplicates: number;
  /** Give up waiting after this long. */
  timeoutSeconds: number;
  /** Files checked byte-exact (SHA-256 of the object vs the generated content). */
  verifySample: number;
}

export interface ArchiveJobsFigures extends ArchiveJobsOptions, ArchiveLoadFigures {
  redeliveredSameJob: number;
  getDentryCalls: { expected: number; actual: number };
  /** Most archive messages in flight at once (received, not yet deleted): the workers running together. */
  maxInFlight: number;
  enqueueSeconds: number;
  wallSeconds: number;
}

async function queueDepth(stack: LocalStack, name: string): Promise<{ visible: number; inFlight: number }> {
  const { QueueUrl } = await stack.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  const { Attributes = {} } = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return {
    visible:
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
    }),
  );
  return out;
}

export async function runArchiveJobsLoad(
  stack: LocalStack,
  options: ArchiveJobsOptions,
): Promise<ArchiveJobsFigures> {
  const space = "sandbox-space";
  const folder = `load-${Date.now()}`;
  const sizes = jobSizes(options.jobs);
  const files = await mapLimit(sizes, 10, async (size, i) => {
    const name = `job-${i}.bin`;
    const dentryId = await putSandboxFile(stack, { name, size, parentPath: folder });
    return loadFile(space, folder, name, size, dentryId);
  });
  const before = (await sandboxState(stack)).calls;

  // Watch how many jobs run at once while the queue drains.
  let maxInFlight = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const depth = await queueDepth(stack, LOCAL_QUEUES.archive).catch(() => undefined);
      if (depth) maxInFlight = Math.max(maxInFlight, depth.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();

  const started = performance.now();
  const answers = await mapLimit(files, 10, async (file, i) => {
    const id = `msg_load_${folder}_${i}`;
    const answer = await signedPost(
      stack,
      "/webhooks/archive",
      { spaceId: space, dentryId: file.dentryId },
      id,
    );
    if (answer.status !== 202)
      throw new Error(`job ${i} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return { id, jobId: answer.body.jobId as string };
  });
  let redeliveredSameJob = 0;
  for (let i = 0; i < options.redeliveries; i++) {
    const k = (i * 37) % files.length;
    const file = files[k] as (typeof files)[number];
    const first = answers[k] as (typeof answers)[number];
    const again = await signedPost(
      stack,
      "/webhooks/archive",
      { spaceId: space, dentryId: file.dentryId },
      first.id,
    );
    if (again.status === 202 && again.body.jobId === first.jobId) redeliveredSameJob++;
  }
  for (let i = 0; i < options.duplicates; i++) {
    const file = files[(i * 53 + 11) % files.length] as (typeof files)[number];
    const answer = await signedPost(stack, "/webhooks/archive", { spaceId: space, dentryId: file.dentryId });
    if (answer.status !== 202) throw new Error(`duplicate job answered ${answer.status}`);
  }
  const enqueueSeconds = (performance.now() - started) / 1000;

  // Done when every object is there and the queue has nothing waiting or running (twice in a row: the
  // local poller waits up to 5 s between batches).
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const present = new Set<string>();
  let quietChecks = 0;
  while (quietChecks < 2) {
    if (Date.now() > deadline) {
      watching = false;
      throw new Error(
        `not done after ${options.timeoutSeconds} s: ${present.size}/${files.length} archived\n${stack.output().slice(-3000)}`,
      );
    }
    await mapLimit(
      files.filter((f) => !present.has(f.key)),
      10,
      async (f) => {
        const found = await stack.s3
          .send(new HeadObjectCommand({ Bucket: LOCAL_BUCKET, Key: f.key }))
          .then(() => true)
          .catch(() => false);
        if (found) present.add(f.key);
      },
    );
    const depth = await queueDepth(stack, LOCAL_QUEUES.archive);
    quietChecks =
      present.size === files.length && depth.visible === 0 && depth.inFlight === 0 ? quietChecks + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, quietChecks > 0 ? 6_000 : 500));
  }
  const wallSeconds = (performance.now() - started) / 1000 - 6; // minus the last confirmation wait
  watching = false;
  await watcher;

  const after = (await sandboxState(stack)).calls;
  const diff = (api: string) => (after[api] ?? 0) - (before[api] ?? 0);
  let wrongSize = 0;
  await mapLimit(files, 10, async (f) => {
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: LOCAL_BUCKET, Key: f.key }));
    if (head.ContentLength !== f.size) wrongSize++;
  });
  const sample = files.filter(
    (_, i) => i % Math.max(1, Math.floor(files.length / options.verifySample)) === 0,
  );
  let sampleExact = 0;
  for (const f of sample.slice(0, options.verifySample)) {
    if (await isExact(stack.s3, LOCAL_BUCKET, f.key, f.seed, f.size)) sampleExact++;
  }
  const dlq = await queueDepth(stack, LOCAL_QUEUES.archiveDeadLetter);

  return {
    ...options,
    ...sizeFigures(sizes),
    archived: present.size,
    wrongSize,
    sampleExact,
    sampleChecked: Math.min(sample.length, options.verifySample),
    redeliveredSameJob,
    fileHostCalls: { expected: rangesFor(sizes), actual: diff("file") },
    downloadInfoCalls: { expected: files.length, actual: diff("downloadInfo") },
    getDentryCalls: { expected: files.length + options.duplicates, actual: diff("getDentry") },
    deadLettered: dlq.visible + dlq.inFlight,
    maxInFlight,
    enqueueSeconds,
    wallSeconds,
  };
}

export function formatArchiveJobsFigures(f: ArchiveJobsFigures): string {
  return [
    `archive jobs: ${describeFiles(f)}, +${f.redeliveries} redelivered webhooks, +${f.duplicates} duplicate jobs`,
    archivedLine(f),
    `  transfers       file-host calls ${f.fileHostCalls.actual} (expected ${f.fileHostCalls.expected}: one per part); download-info calls ${f.downloadInfoCalls.actual} (expected ${f.downloadInfoCalls.expected}); getDentry ${f.getDentryCalls.actual} (expected ${f.getDentryCalls.expected})`,
    `  duplicates      redeliveries answered with the first job id ${f.redeliveredSameJob}/${f.redeliveries}; transferred twice ${Math.max(0, f.fileHostCalls.actual - f.fileHostCalls.expected)} parts`,
    `  queue           dead-lettered ${f.deadLettered}; most jobs in flight at once ${f.maxInFlight}`,
    `  time            enqueued in ${f.enqueueSeconds.toFixed(1)} s; all archived ${f.wallSeconds.toFixed(1)} s after the first webhook (${(f.jobs / f.wallSeconds).toFixed(1)} jobs/s)`,
  ].join("\n");
}

export function archiveJobsProblems(f: ArchiveJobsFigures): string[] {
  const problems = archiveLoadProblems(f);
  if (f.getDentryCalls.actual !== f.getDentryCalls.expected) {
    problems.push(`getDentry calls ${f.getDentryCalls.actual}, expected ${f.getDentryCalls.expected}`);
  }
  if (f.redeliveredSameJob !== f.redeliveries) problems.push("a redelivered webhook got a new job");
  if (f.maxInFlight > 5) problems.push(`${f.maxInFlight} jobs at once, over the cap of 5`);
  return problems;
}

await runAsScript(
  import.meta.url,
  { jobs: 200, redeliveries: 20, duplicates: 10, timeout: 900 },
  {
    async run({ timeout, ...counts }) {
      const stack = await startLocalStack({ POWERTOOLS_LOG_LEVEL: "ERROR" });
      process.stdout.write(`local stack up in ${stack.startSeconds.toFixed(1)} s (${stack.httpUrl})\n`);
      const options = { ...counts, timeoutSeconds: timeout, verifySample: 20 };
      return runArchiveJobsLoad(stack, options).finally(() => stack.stop());
    },
    format: formatArchiveJobsFigures,
    problems: archiveJobsProblems,
  },
);
