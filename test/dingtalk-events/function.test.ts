/**
 * The dingtalk-events function's handler, invoked as Lambda would, against real servers: pushes built by
 * sandbox/push.ts (DingTalk's side, encrypted independently), fauxqs for SQS and S3, dynalite for the
 * idempotency records, the DingTalk sandbox for the archive worker that takes the queued job to S3.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { FauxqsServer } from "fauxqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256OfGenerated } from "../../sandbox/content";
import { buildPush, openReply, type PushOptions, storageEvent } from "../../sandbox/push";
import type { Sandbox } from "../../sandbox/server";
import { BUCKET, QUEUES, useHandler, useStack } from "../support/handler-stack";
import { lambdaContext, sampleEvent } from "../support/lambda";
import { KEYS, pushHttpEvent } from "./helpers";

const MiB = 1024 * 1024;
const bucket = BUCKET;
const queue = QUEUES.archive;

let sandbox: Sandbox;
let emulator: FauxqsServer;
let s3: S3Client;

const stack = useStack({
  env: { DINGTALK_EVENT_TOKEN: KEYS.token, DINGTALK_EVENT_AES_KEY: KEYS.aesKey },
});
const events = useHandler("dingtalk-events");
const archive = useHandler("archive");
beforeAll(async () => {
  ({ sandbox, emulator } = stack);
  s3 = new S3Client({ endpoint: emulator.address, forcePathStyle: true });
  // Imported after the environment is set: each handler validates its configuration at load (cold start).
});

afterAll(async () => {
  s3?.destroy();
});

beforeEach(() => emulator.reset());

const as: PushOptions = { ...KEYS, appKey: "sandbox" };

async function push(event: unknown, options: Partial<PushOptions> = {}) {
  const built = buildPush(event, { ...as, ...options });
  return (await events(
    pushHttpEvent(built),
    lambdaContext("dingtalk-file-bridge-dev-dingtalkEvents"),
    () => undefined,
  )) as APIGatewayProxyStructuredResultV2;
}

function queued(): Array<Record<string, unknown>> {
  const state = emulator.inspectQueue(queue);
  if (!state) throw new Error(`no queue ${queue}`);
  return [...state.messages.ready, ...state.messages.delayed].map((m) => JSON.parse(m.body));
}

function expectSuccess(result: APIGatewayProxyStructuredResultV2) {
  expect(result.statusCode).toBe(200);
  expect(openReply(JSON.parse(result.body as string), as)).toBe("success");
}

async function objectSha256(key: string): Promise<string> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash("sha256");
  for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest("hex");
}

describe("POST /webhooks/dingtalk-events", () => {
  it("turns a file-created push into one queued job that the archive worker takes to S3 byte-exact", async () => {
    const file = { name: "pushed.bin", size: 6 * MiB + 3, seed: "dingtalk-push" };
    const dentryId = sandbox.putGeneratedFile(file);
    const started = performance.now();
    const answer = await push(storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId }));
    const answeredMs = performance.now() - started;
    expectSuccess(answer);
    // DingTalk wants the answer within ~1.5 s; nothing was downloaded to give it.
    expect(answeredMs).toBeLessThan(1500);
    expect(sandbox.calls().file).toBe(0);

    const jobs = queued();
    expect(jobs).toEqual([
      {
        spaceId: "sandbox-space",
        dentryId,
        unionId: "sandbox-union",
        jobId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    ]);

    const template = sampleEvent<SQSEvent>("archive.sqs.json").Records[0] as SQSEvent["Records"][number];
    const sqsEvent: SQSEvent = {
      Records: [{ ...template, messageId: "pushed-1", body: JSON.stringify(jobs[0]) }],
    };
    const result = (await archive(
      sqsEvent,
      lambdaContext("dingtalk-file-bridge-dev-archive", 600_000),
      () => undefined,
    )) as SQSBatchResponse;
    expect(result.batchItemFailures).toEqual([]);
    expect(await objectSha256(`dingtalk/sandbox-space/${dentryId}/v1/${file.name}`)).toBe(
      await sha256OfGenerated(file.seed, file.size),
    );
  });

  it("queues one job for the same push delivered twice and for DingTalk's re-encrypted retry", async () => {
    const event = storageEvent("storage_dentry_update", { spaceId: "sandbox-space", dentryId: "777001" });
    const built = buildPush(event, as);
    const context = () => lambdaContext("dingtalk-file-bridge-dev-dingtalkEvents");
    const first = (await events(
      pushHttpEvent(built),
      context(),
      () => undefined,
    )) as APIGatewayProxyStructuredResultV2;
    const again = (await events(
      pushHttpEvent(built),
      context(),
      () => undefined,
    )) as APIGatewayProxyStructuredResultV2;
    expectSuccess(first);
    expectSuccess(again);
    expectSuccess(await push(event, { timestamp: Date.now() + 10_000 }));
    expect(queued().map((job) => job.dentryId)).toEqual(["777001"]);
  });

  it("answers the callback URL check, acknowledges folders and other events, queueing nothing", async () => {
    expectSuccess(await push({ EventType: "check_url" }));
    expectSuccess(
      await push(
        storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId: "9", type: "FOLDER" }),
      ),
    );
    expectSuccess(
      await push(storageEvent("storage_dentry_delete", { spaceId: "sandbox-space", dentryId: "9" })),
    );
    expectSuccess(await push({ EventType: "user_add_org", UserId: ["u"] }));
    expect(queued()).toEqual([]);
  });

  it("refuses a wrong signature, a stale timestamp and another app's message with 401, queueing nothing", async () => {
    const event = storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId: "10" });
    const results = [
      await push(event, { token: "wrong-token" }),
      await push(event, { timestamp: Date.now() - 10 * 60_000 }),
      await push(event, { appKey: "another-app" }),
    ];
    expect(results.map((r) => r.statusCode)).toEqual([401, 401, 401]);
    // One answer whatever failed: a sender learns nothing about which check it was.
    expect(results.map((r) => JSON.parse(r.body as string).error.code)).toEqual([
      "InvalidPush",
      "InvalidPush",
      "InvalidPush",
    ]);
    for (const r of results) {
      expect(r.body).not.toContain(KEYS.token);
      expect(r.body).not.toContain(KEYS.aesKey);
    }
    expect(queued()).toEqual([]);
  });
});
