/**
 * The archive-schedule function's handler, invoked as Lambda would (sample events from events/), feeding the
 * REAL archive function with the jobs it queues: sandbox, fauxqs (S3 + SQS) and dynalite, nothing mocked.
 *
 *   schedule ─► jobs ─► archive worker ─► S3 ─► schedule again: nothing ─► a file changes ─► one job
 */
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import type { Handler, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ArchiveJob } from "../../lib/archive-worker/archive-job";
import type { RunSummary } from "../../lib/schedule/run";
import { lambdaContext, sampleEvent } from "../support/lambda";
import { useWorld } from "../support/use-world";
import { BUCKET, PREFIX, QUEUES, SAMPLE, SPACE, startScheduleWorld } from "./helpers";

let schedule: Handler;
let archive: Handler;
const deadLetters = "archive-jobs-dlq";

const world = useWorld(
  () => startScheduleWorld({}, { dynamo: "idempotency" }),
  (w) => w.sandbox.clearFaults(),
);

beforeAll(async () => {
  world.emulator.createQueue(deadLetters);
  Object.assign(
    process.env,
    world.env({
      ARCHIVE_PREFIX: PREFIX,
      ARCHIVE_QUEUE_URL: world.queueUrl(QUEUES.archive),
      ARCHIVE_SCAN_QUEUE_URL: world.queueUrl(QUEUES.scan),
      ARCHIVE_SCAN_STOP_MARGIN_SECONDS: "5",
      ARCHIVE_SOURCES: JSON.stringify([{ spaceId: SPACE }]),
      // The archive function's own settings.
      WEBHOOK_SECRET_ARCHIVE: `whsec_${Buffer.from("schedule-test").toString("base64")}`,
      IDEMPOTENCY_TABLE: "idempotency",
      ARCHIVE_DLQ_URL: world.queueUrl(deadLetters),
    }),
  );
  schedule = (await import("../../functions/archive-schedule/handler")).handler as Handler;
  archive = (await import("../../functions/archive/handler")).handler as Handler;
});

/**
 * Invoke the schedule function; returns its answer and the EMF metric lines of the run it printed (`emf`), and
 * the per-call lines of the DingTalk call meter (`calls`).
 */
async function invokeSchedule<T = RunSummary>(event: unknown, remainingMs = 60_000) {
  const printed: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    const result = (await schedule(
      event,
      lambdaContext("dingtalk-file-bridge-dev-archiveSchedule", remainingMs),
      () => undefined,
    )) as T;
    const lines = printed
      .flatMap((text) => text.split("\n"))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const emf = lines.filter((line) => "ScanListCalls" in line);
    const calls = lines.filter((line) => "DingTalkCalls" in line);
    return { result, emf, calls };
  } finally {
    spy.mockRestore();
  }
}

function sqsEventOf(sample: string, bodies: unknown[]): SQSEvent {
  const template = sampleEvent<SQSEvent>(sample).Records[0] as SQSEvent["Records"][number];
  return {
    Records: bodies.map((body, i) => ({ ...template, messageId: `m-${i}`, body: JSON.stringify(body) })),
  };
}

/** What the archive worker does with the queue: every job, 10 records per invocation. */
async function runArchiveWorker(jobs: ArchiveJob[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += 10) {
    const event = sqsEventOf("archive.sqs.json", jobs.slice(i, i + 10));
    const answer = (await archive(
      event,
      lambdaContext("archive", 600_000),
      () => undefined,
    )) as SQSBatchResponse;
    expect(answer.batchItemFailures).toEqual([]);
  }
}

const scheduledEvent = () => sampleEvent<Record<string, unknown>>("archive-schedule.eventbridge.json");

describe("archive-schedule with the archive function", () => {
  it("archives the whole space incrementally: every file once, then nothing, then only the changed file", async () => {
    world.sandbox.resetCalls();
    const first = await invokeSchedule(scheduledEvent());
    expect(first.result).toMatchObject({ status: "complete", queued: SAMPLE.files, pages: SAMPLE.pages });
    expect(world.sandbox.calls()).toMatchObject({
      listDentries: SAMPLE.pages,
      getDentry: 0,
      downloadInfo: 0,
    });
    const metrics = first.emf[0] as Record<string, unknown>;
    expect(metrics).toMatchObject({
      ScanListed: SAMPLE.files + 7,
      ScanQueued: SAMPLE.files,
      ScanSkipped: 0,
      ScanFailed: 0,
      ScanListCalls: SAMPLE.pages,
      ScanQueuedBytes: first.result.bytes,
      ScanRunsCompleted: 1,
      service: expect.any(String),
    });
    expect(JSON.stringify(metrics._aws)).toContain('"Namespace":"DingTalkFileBridge"');
    // One DingTalkCalls metric per metered call, by API and function.
    expect(first.calls).toHaveLength(SAMPLE.pages);
    expect(first.calls[0]).toMatchObject({
      DingTalkCalls: 1,
      api: "listDentries",
      function: "archive-schedule",
    });

    const jobs = await world.drainJobs();
    expect(jobs).toHaveLength(SAMPLE.files);
    // The 64 MiB file is only put where the worker would put it: on a busy shared 2-core machine its real
    // transfer takes minutes, and the transfer engine's own tests cover big files.
    const big = world.sandbox.dentryIdByPath("media/big-64MiB.bin");
    await runArchiveWorker(jobs.filter((j) => j.dentryId !== big));
    await world.markArchived(jobs.find((j) => j.dentryId === big) as ArchiveJob, "big-64MiB.bin");
    const pdf = world.sandbox.dentryIdByPath("报告 2026.pdf");
    const head = await world.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${SPACE}/${pdf}/v1/报告 2026.pdf` }),
    );
    expect(head.ContentLength).toBe(300_001);

    world.sandbox.resetCalls();
    // The first run completed and left its start in DynamoDB: this one lists only what changed since (flat,
    // newest first), which is nothing: one listAll call.
    const second = await invokeSchedule(scheduledEvent());
    expect(second.result).toMatchObject({ status: "complete", queued: 0, pages: 1 });
    expect(world.sandbox.calls()).toMatchObject({
      listDentries: 0,
      listAllDentries: 1,
      getDentry: 0,
      downloadInfo: 0,
    });
    expect(world.jobs()).toEqual([]);

    const changed = world.sandbox.putGeneratedFile({
      name: "notes.md",
      parentPath: "docs/2026/q1",
      size: 777,
    });
    world.sandbox.resetCalls();
    const third = await invokeSchedule(scheduledEvent());
    expect(third.result).toMatchObject({ queued: 1, bytes: 777, pages: 1 });
    expect(world.sandbox.calls()).toMatchObject({
      listDentries: 0,
      listAllDentries: 1,
      getDentry: 0,
      downloadInfo: 0,
    });
    const [job] = await world.drainJobs();
    expect(job).toMatchObject({ spaceId: SPACE, dentryId: changed, version: 2 });
    await runArchiveWorker([job as ArchiveJob]);
    const v2 = await world.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${SPACE}/${changed}/v2/notes.md` }),
    );
    expect(v2.ContentLength).toBe(777);
    expect((await invokeSchedule(scheduledEvent())).result).toMatchObject({ queued: 0 });
  }, 180_000);

  it("short of time, continues itself through the scan queue, one invocation after another", async () => {
    const docs = world.sandbox.dentryIdByPath("docs") as string;
    world.sandbox.putGeneratedFile({ name: "new.txt", parentPath: "docs/2026", size: 10 });
    world.sandbox.resetCalls();
    // Remaining time under the 5 s margin: one page per invocation.
    const event = { ...scheduledEvent(), detail: { sources: [{ spaceId: SPACE, parentId: docs }] } };
    const { result } = await invokeSchedule(event, 1_000);
    expect(result).toMatchObject({ status: "continued", pages: 1, continuation: { messages: 1 } });
    let invocations = 1;
    let last: Record<string, unknown> | undefined;
    // The SQS path answers with a batch response: follow the run through the scan queue and the metrics.
    for (let cursors = await world.drainCursors(); cursors.length > 0; cursors = await world.drainCursors()) {
      expect(cursors).toHaveLength(1);
      expect(cursors[0]).toMatchObject({ runId: result.runId, invocation: invocations + 1 });
      const answer = await invokeSchedule<SQSBatchResponse>(
        sqsEventOf("archive-schedule.sqs.json", cursors),
        1_000,
      );
      expect(answer.result.batchItemFailures).toEqual([]);
      last = answer.emf[0];
      expect(last).toMatchObject({ ScanListCalls: 1 });
      invocations += 1;
    }
    expect(last).toMatchObject({ ScanRunsCompleted: 1 });
    // docs, docs/2026, docs/2026/q1, docs/archive: four folders, one page each, four invocations.
    expect(invocations).toBe(4);
    expect(world.sandbox.calls().listDentries).toBe(4);
    expect(world.jobs().map((j) => j.dentryId)).toEqual([world.sandbox.dentryIdByPath("docs/2026/new.txt")]);
  });

  it("takes its sources from a direct invoke (a schedule's constant input) and refuses bad ones by name", async () => {
    await world.drainJobs();
    const q1 = world.sandbox.dentryIdByPath("docs/2026/q1") as string;
    const direct = sampleEvent<{ sources: Array<Record<string, unknown>> }>("archive-schedule.direct.json");
    const { result } = await invokeSchedule({ sources: [{ ...direct.sources[0], parentId: q1 }] });
    expect(result).toMatchObject({ status: "complete", pages: 1, listed: 2, skipped: 2, queued: 0 });

    await expect(invokeSchedule({ sources: [{ spaceId: SPACE, recursive: "no" }] })).rejects.toThrow(
      /sources\[0\]\.recursive must be true or false/,
    );
    await expect(
      invokeSchedule({ ...scheduledEvent(), detail: { sources: [{ parentId: "1" }] } }),
    ).rejects.toThrow(/detail\.sources\[0\]\.spaceId is required/);
  });

  it("an SQS record that is not a scan cursor fails alone (redelivered, then dead-lettered by the queue)", async () => {
    const { result } = await invokeSchedule<SQSBatchResponse>(
      sqsEventOf("archive-schedule.sqs.json", [{ kind: "archive-scan", runId: "r" }]),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m-0" }]);
  });
});
