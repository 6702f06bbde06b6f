/**
 * The archive intake (POST /webhooks/archive), invoked as Lambda would against fauxqs (SQS) and dynalite
 * (idempotency records): it verifies, validates and queues; it archives nothing and calls no DingTalk API.
 */
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { FauxqsServer } from "fauxqs";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadArchiveIntakeSettings } from "../../lib/archive-intake/config";
import type { Sandbox } from "../../sandbox/server";
import { QUEUES, useHandler, useStack, WEBHOOK_SECRETS } from "../support/handler-stack";
import { lambdaContext, signedHttpEvent } from "../support/lambda";

let sandbox: Sandbox;
let emulator: FauxqsServer;

const stack = useStack();
const handler = useHandler("archive-intake");
beforeAll(async () => {
  ({ sandbox, emulator } = stack);
});

beforeEach(() => emulator.reset());

const invoke = async (event: unknown) =>
  (await handler(
    event,
    lambdaContext("dingtalk-file-bridge-dev-archiveIntake"),
    () => undefined,
  )) as APIGatewayProxyStructuredResultV2;
const fileId = () => sandbox.dentryIdByPath("README.txt") as string;
const sample = "archive-intake.http.json";
/** Every call the sandbox answered, whatever the API. */
const dingTalkCalls = () => Object.values(sandbox.calls()).reduce((sum, n) => sum + n, 0);

describe("POST /webhooks/archive (archive-intake)", () => {
  it("queues the job and answers 202 with its id; a redelivered webhook-id queues nothing more", async () => {
    const body = JSON.stringify({ spaceId: "sandbox-space", dentryId: fileId() });
    const event = () => signedHttpEvent(WEBHOOK_SECRETS.archive, body, { id: "msg_intake_1", sample });
    const callsBefore = dingTalkCalls();
    const first = await invoke(event());
    const second = await invoke(event());
    expect(first.statusCode).toBe(202);
    const answer = JSON.parse(first.body as string);
    expect(answer).toEqual({ jobId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: "queued" });
    expect(second.body).toBe(first.body);
    expect(stack.messages(QUEUES.archive)).toEqual([
      { spaceId: "sandbox-space", dentryId: fileId(), jobId: answer.jobId },
    ]);
    // Intake only: no DingTalk call at all (no token, no download).
    expect(dingTalkCalls()).toBe(callsBefore);
  });

  it("refuses a bad signature (401) and a bad version (400 naming it), queueing nothing", async () => {
    const body = JSON.stringify({ spaceId: "sandbox-space", dentryId: fileId(), version: -1 });
    const bad = await invoke(signedHttpEvent(WEBHOOK_SECRETS.archive, body, { sample }));
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body as string).error.message).toMatch(/version/);
    const wrongSecret = `whsec_${Buffer.from("wrong").toString("base64")}`;
    const unsigned = await invoke(signedHttpEvent(wrongSecret, body, { sample }));
    expect(unsigned.statusCode).toBe(401);
    expect(stack.messages(QUEUES.archive)).toEqual([]);
  });
});

describe("archive-intake settings", () => {
  const env = {
    WEBHOOK_SECRET_ARCHIVE: WEBHOOK_SECRETS.archive,
    IDEMPOTENCY_TABLE: "t",
    ARCHIVE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/archive",
  };

  it("keeps idempotency records at least twice the webhook timestamp window", () => {
    expect(() => loadArchiveIntakeSettings({ ...env, IDEMPOTENCY_TTL_SECONDS: "599" })).toThrow(
      /IDEMPOTENCY_TTL_SECONDS must be at least 600/,
    );
    expect(loadArchiveIntakeSettings({ ...env, IDEMPOTENCY_TTL_SECONDS: "600" }).idempotency).toMatchObject({
      expiresAfterSeconds: 600,
    });
  });

  it("verifies with the archive endpoint's own secret, never the send-link one", () => {
    const archiveSecret = `whsec_${Buffer.from("archive-endpoint-secret").toString("base64")}`;
    const sendLinkSecret = `whsec_${Buffer.from("send-link-endpoint-secret").toString("base64")}`;
    const { WEBHOOK_SECRET_ARCHIVE: _, ...rest } = env;
    const settings = loadArchiveIntakeSettings({
      ...rest,
      WEBHOOK_SECRET_ARCHIVE: archiveSecret,
      WEBHOOK_SECRET_SEND_LINK: sendLinkSecret,
    });
    expect(settings.webhook.secret).toMatchObject({ kind: "value", value: archiveSecret });
    const byParameter = loadArchiveIntakeSettings({
      ...rest,
      WEBHOOK_SECRET_ARCHIVE_PARAMETER: "/dingtalk-file-bridge/prod/webhook-secret-archive",
      WEBHOOK_SECRET_SEND_LINK_PARAMETER: "/dingtalk-file-bridge/prod/webhook-secret-send-link",
    });
    expect(byParameter.webhook.secret).toMatchObject({
      kind: "ssm",
      name: "WEBHOOK_SECRET_ARCHIVE",
      parameter: "/dingtalk-file-bridge/prod/webhook-secret-archive",
    });
  });

  it("names every missing variable at once", () => {
    expect(() => loadArchiveIntakeSettings({})).toThrow(
      /WEBHOOK_SECRET_ARCHIVE.*is required.*IDEMPOTENCY_TABLE is required.*ARCHIVE_QUEUE_URL is required/s,
    );
  });
});
