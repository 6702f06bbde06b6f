import type * as Lambda from "aws-lambda";
import type { FauxqsServer } from "fauxqs";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256OfGenerated } from "../../sandbox/content";
import type { Sandbox } from "../../sandbox/server";
import { BUCKET, QUEUES, sqsEvent, useHandler, useStack, WEBHOOK_SECRETS } from "../support/handler-stack";
import { lambdaContext, sampleEvent, signedHttpEvent } from "../support/lambda";
import { sha256OfObject } from "../support/world";

const secret = WEBHOOK_SECRETS.archive;
const MiB = 1024 * 1024;
const bucket = BUCKET;
const queue = QUEUES.archive;
const deadLetters = QUEUES.archiveDlq;
const bigFile = { name: "big.bin", size: 12 * MiB + 7, seed: "archive-fn-big" };

let sandbox: Sandbox;
let emulator: FauxqsServer;

const stack = useStack({ sandbox: { generatedFiles: [bigFile] } });
const handler = useHandler("archive");
beforeAll(async () => {
  ({ sandbox, emulator } = stack);
});

beforeEach(() => {
  sandbox.clearFaults();
  emulator.reset();
});

const invoke = async <T>(event: unknown, remainingMs?: number) =>
  (await handler(
    event,
    lambdaContext("dingtalk-file-bridge-dev-archive", remainingMs),
    () => undefined,
  )) as T;

/** Messages waiting in a queue (ready or delayed), parsed. */
function messagesIn(name: string): Array<{ body: Record<string, unknown>; delayed: boolean }> {
  const state = emulator.inspectQueue(name);
  if (!state) throw new Error(`no queue ${name}`);
  return [
    ...state.messages.ready.map((m) => ({ body: JSON.parse(m.body), delayed: false })),
    ...state.messages.delayed.map((m) => ({ body: JSON.parse(m.body), delayed: true })),
  ];
}

const sqsEventOf = (...bodies: unknown[]): Lambda.SQSEvent =>
  sqsEvent(bodies.map((body) => JSON.stringify(body)));

const objectSha256 = async (key: string) => (await sha256OfObject(stack.s3, bucket, key)).sha256;

const bigId = () => sandbox.dentryIdByPath(bigFile.name) as string;

describe("the archive worker has no HTTP route", () => {
  it("refuses an HTTP event instead of treating it as a job (POST /webhooks/archive is archive-intake)", async () => {
    const body = JSON.stringify({ spaceId: "sandbox-space", dentryId: bigId() });
    // Every function refuses a trigger it does not take alike: an HTTP caller gets a 400 naming it.
    const answer = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      signedHttpEvent(secret, body, { sample: "archive-intake.http.json" }),
    );
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body as string).error).toMatchObject({
      code: "UnsupportedTrigger",
      message: expect.stringMatching(/queue jobs only/),
    });
    expect(messagesIn(queue)).toEqual([]);
    expect(sandbox.calls().file).toBe(0);
  });
});

describe("the archive worker (SQS)", () => {
  it("archives a queued job byte-exact under the prefix", async () => {
    const result = await invoke<Lambda.SQSBatchResponse>(
      sqsEventOf({ spaceId: "sandbox-space", dentryId: bigId() }),
    );
    expect(result.batchItemFailures).toEqual([]);
    const key = `dingtalk/sandbox-space/${bigId()}/v1/big.bin`;
    expect(await objectSha256(key)).toBe(await sha256OfGenerated(bigFile.seed, bigFile.size));
  });

  it("pauses a job short of time, requeues it, and the next run resumes without re-sending parts", async () => {
    const file = { name: "paused.bin", size: 11 * MiB, seed: "archive-fn-paused" };
    const dentryId = sandbox.putGeneratedFile(file);
    // Remaining time under the 10 s stop margin: the worker starts no part, checkpoints, requeues.
    await invoke<Lambda.SQSBatchResponse>(
      sqsEventOf({ spaceId: "sandbox-space", dentryId, jobId: "job-paused" }),
      5_000,
    );
    const requeued = messagesIn(queue);
    // No part was done: a pause without progress, counted as a failed attempt in the job's history.
    expect(requeued.map((m) => m.body)).toEqual([
      {
        spaceId: "sandbox-space",
        dentryId,
        jobId: "job-paused",
        attempts: {
          firstAt: expect.any(Number),
          failed: 1,
          continued: 0,
          partsDone: 0,
          recent: [{ at: expect.any(String), reason: "pausedWithoutProgress", counted: true }],
        },
      },
    ]);

    emulator.reset();
    const result = await invoke<Lambda.SQSBatchResponse>(sqsEventOf(requeued[0]?.body));
    expect(result.batchItemFailures).toEqual([]);
    expect(messagesIn(queue)).toEqual([]);
    const key = `dingtalk/sandbox-space/${dentryId}/v1/paused.bin`;
    expect(await objectSha256(key)).toBe(await sha256OfGenerated(file.seed, file.size));
  });

  it("sends a file DingTalk is unarchiving back to the queue with a delay, not to failure", async () => {
    sandbox.addFaults({ api: "downloadInfo", kind: "fileArchived" });
    const dentryId = sandbox.putGeneratedFile({ name: "cold.bin", size: 1000, seed: "cold" });
    const result = await invoke<Lambda.SQSBatchResponse>(sqsEventOf({ spaceId: "sandbox-space", dentryId }));
    expect(result.batchItemFailures).toEqual([]);
    const waiting = messagesIn(queue);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]?.delayed).toBe(true);
    expect(messagesIn(deadLetters)).toEqual([]);
  });

  it("dead-letters permanent failures and malformed jobs with their reason; the rest of the batch succeeds", async () => {
    const good = sandbox.putGeneratedFile({ name: "good.txt", size: 10, seed: "good" });
    const result = await invoke<Lambda.SQSBatchResponse>(
      sqsEventOf(
        { spaceId: "sandbox-space", dentryId: "404404404" },
        { spaceId: "sandbox-space" },
        { spaceId: "sandbox-space", dentryId: good },
      ),
    );
    expect(result.batchItemFailures).toEqual([]);
    // Records run concurrently: order the dead letters by their code.
    const dead = messagesIn(deadLetters)
      .map((m) => m.body as { error: { code: string } })
      .sort((a, b) => (a.error.code < b.error.code ? -1 : 1));
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({
      error: { code: "InvalidJob", message: expect.stringMatching(/dentryId/) },
    });
    expect(dead[1]).toMatchObject({
      job: { dentryId: "404404404" },
      error: { code: "dentryNotExist", requestId: expect.any(String) },
    });
    expect(await objectSha256(`dingtalk/sandbox-space/${good}/v1/good.txt`)).toBe(
      await sha256OfGenerated("good", 10),
    );
  });

  it("reports a transient failure as a batch item failure so SQS redelivers it", async () => {
    sandbox.addFaults({ api: "getDentry", kind: "systemError" });
    const result = await invoke<Lambda.SQSBatchResponse>(
      sqsEventOf({ spaceId: "sandbox-space", dentryId: bigId() }),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m-0" }]);
    expect(messagesIn(deadLetters)).toEqual([]);
  }, 60_000);
});

describe("events from other systems, through the archive queue", () => {
  it("archives an EventBridge ArchiveRequested event delivered by a bus rule, and dead-letters a malformed one", async () => {
    const dentryId = sandbox.putGeneratedFile({ name: "bus.txt", size: 100, seed: "bus" });
    const sample = sampleEvent<Lambda.EventBridgeEvent<string, unknown>>("archive.eventbridge.json");
    const good = { ...sample, id: "evt-good", detail: { spaceId: "sandbox-space", dentryId } };
    const malformed = { ...sample, id: "evt-bad", detail: { spaceId: "sandbox-space", dentryId: 7 } };
    const result = await invoke<Lambda.SQSBatchResponse>(sqsEventOf(good, malformed));
    expect(result.batchItemFailures).toEqual([]);
    expect(await objectSha256(`dingtalk/sandbox-space/${dentryId}/v1/bus.txt`)).toBe(
      await sha256OfGenerated("bus", 100),
    );
    const dead = messagesIn(deadLetters).map((m) => m.body);
    expect(dead).toEqual([
      {
        body: JSON.stringify(malformed),
        error: { code: "InvalidJob", message: expect.stringMatching(/dentryId: must be a string/) },
      },
    ]);
  });

  it("archives a job published to an SNS topic subscribed to the queue", async () => {
    const dentryId = sandbox.putGeneratedFile({ name: "topic.txt", size: 100, seed: "topic" });
    emulator.createTopic("archive-requests");
    emulator.subscribe({ topic: "archive-requests", queue });
    emulator.publish("archive-requests", JSON.stringify({ spaceId: "sandbox-space", dentryId }));
    const delivered = emulator.inspectQueue(queue)?.messages.ready ?? [];
    expect(delivered).toHaveLength(1);
    expect(JSON.parse(delivered[0]?.body as string)).toMatchObject({ Type: "Notification" });
    emulator.reset();
    const result = await invoke<Lambda.SQSBatchResponse>(
      sqsEventOf(JSON.parse(delivered[0]?.body as string)),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(await objectSha256(`dingtalk/sandbox-space/${dentryId}/v1/topic.txt`)).toBe(
      await sha256OfGenerated("topic", 100),
    );
  });
});

describe("the archive worker (EventBridge, direct invoke)", () => {
  it("archives an ArchiveRequested event, then skips it when it comes again", async () => {
    const dentryId = sandbox.putGeneratedFile({ name: "事件.txt", size: 4096, seed: "event" });
    const sample = sampleEvent<Lambda.EventBridgeEvent<string, unknown>>("archive.eventbridge.json");
    const event = { ...sample, detail: { spaceId: "sandbox-space", dentryId } };
    expect(await invoke(event)).toMatchObject({
      status: "archived",
      key: `dingtalk/sandbox-space/${dentryId}/v1/事件.txt`,
    });
    const filesBefore = sandbox.calls().file;
    expect(await invoke(event)).toMatchObject({ status: "skipped" });
    expect(sandbox.calls().file).toBe(filesBefore);
  });

  it("archives a direct invoke with the job as the payload", async () => {
    const dentryId = sandbox.putGeneratedFile({ name: "direct.txt", size: 10, seed: "direct" });
    expect(await invoke({ spaceId: "sandbox-space", dentryId })).toMatchObject({ status: "archived" });
  });
});
