/**
 * The send-link function's handler, invoked as Lambda would, talking over real HTTP to the DingTalk
 * sandbox and to a real DynamoDB-compatible server (dynalite) for idempotency records. Nothing is mocked.
 */
import type * as Lambda from "aws-lambda";
import type { FauxqsServer } from "fauxqs";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../../sandbox/server";
import { useHandler, useStack, WEBHOOK_SECRETS } from "../support/handler-stack";
import { lambdaContext, sampleEvent, signedHttpEvent } from "../support/lambda";

const secret = WEBHOOK_SECRETS["send-link"];
let sandbox: Sandbox;
let emulator: FauxqsServer;
let fileId: string;

const stack = useStack();
const handler = useHandler("send-link");
beforeAll(async () => {
  ({ sandbox, emulator } = stack);
  fileId = sandbox.dentryIdByPath("报告 2026.pdf") as string;
});

beforeEach(() => sandbox.clearFaults());

async function invoke<T>(event: unknown): Promise<T> {
  return (await handler(event, lambdaContext(), () => undefined)) as T;
}

const body = (fields: Record<string, unknown>) => JSON.stringify(fields);
/** POST /webhooks/send-link with these fields, signed. */
const post = (fields: Record<string, unknown>) =>
  invoke<Lambda.APIGatewayProxyStructuredResultV2>(signedHttpEvent(secret, body(fields)));
const linkRequest = () => ({ spaceId: "sandbox-space", dentryId: fileId, openConversationId: "cid-sandbox" });

function errorOf(result: Lambda.APIGatewayProxyStructuredResultV2) {
  return (
    JSON.parse(result.body as string) as {
      error: { code: string; message: string; requestId?: string; details?: unknown };
    }
  ).error;
}

describe("POST /webhooks/send-link", () => {
  it("sends the link and answers 200 with DingTalk's file object", async () => {
    const before = sandbox.sentLinks().length;
    const result = await post(linkRequest());
    expect(result.statusCode).toBe(200);
    const { file } = JSON.parse(result.body as string);
    expect(file).toMatchObject({
      id: fileId,
      spaceId: "sandbox-space",
      name: "报告 2026.pdf",
      size: 300_001,
      conversationId: "cid-sandbox",
    });
    expect(sandbox.sentLinks().slice(before)).toEqual([
      expect.objectContaining({
        dentryId: fileId,
        openConversationId: "cid-sandbox",
        unionId: "sandbox-union",
      }),
    ]);
  });

  it("sends one link for a redelivered webhook-id and answers the same both times", async () => {
    const before = sandbox.sentLinks().length;
    const payload = body(linkRequest());
    const first = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      signedHttpEvent(secret, payload, { id: "msg_redelivered" }),
    );
    const second = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      signedHttpEvent(secret, payload, { id: "msg_redelivered" }),
    );
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.body).toBe(first.body);
    expect(sandbox.sentLinks().length - before).toBe(1);
  });

  it("refuses the same webhook-id with a different body (422), sending nothing", async () => {
    await invoke(signedHttpEvent(secret, body(linkRequest()), { id: "msg_reused" }));
    const before = sandbox.sentLinks().length;
    const other = body({ ...linkRequest(), unionId: "someone-else" });
    const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      signedHttpEvent(secret, other, { id: "msg_reused" }),
    );
    expect(result.statusCode).toBe(422);
    expect(errorOf(result).code).toBe("IdempotencyKeyReused");
    expect(sandbox.sentLinks().length).toBe(before);
  });

  it("answers 401 for a wrong signature or a stale timestamp, sending nothing", async () => {
    const before = sandbox.sentLinks().length;
    const wrong = signedHttpEvent(
      `whsec_${Buffer.from("not-the-secret").toString("base64")}`,
      body(linkRequest()),
    );
    const stale = signedHttpEvent(secret, body(linkRequest()), { at: new Date(Date.now() - 6 * 60_000) });
    for (const event of [wrong, stale]) {
      const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(event);
      expect(result.statusCode).toBe(401);
      expect(errorOf(result).code).toBe("InvalidSignature");
    }
    expect(errorOf(await invoke(stale)).message).toMatch(/too old/);
    expect(sandbox.sentLinks().length).toBe(before);
  });

  it("answers 400 for malformed JSON", async () => {
    const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      signedHttpEvent(secret, "{not json"),
    );
    expect(result.statusCode).toBe(400);
    expect(errorOf(result)).toMatchObject({
      code: "InvalidJson",
      message: expect.stringMatching(/not valid JSON/),
    });
  });

  it("answers 400 naming each missing or wrong field", async () => {
    const result = await post({ spaceId: "sandbox-space", dentryId: 42 });
    expect(result.statusCode).toBe(400);
    const error = errorOf(result);
    expect(error.code).toBe("InvalidRequest");
    expect(error.message).toContain("dentryId: must be a string");
    expect(error.message).toContain("openConversationId: is required");
    expect(error.details).toEqual({
      fields: [
        { field: "dentryId", problem: "must be a string" },
        { field: "openConversationId", problem: "is required" },
      ],
    });
  });

  it("answers 400 naming unknown fields (a typo would otherwise be ignored)", async () => {
    const result = await post({ ...linkRequest(), unionID: "x" });
    expect(result.statusCode).toBe(400);
    expect(errorOf(result).message).toContain("unknown field(s): unionID");
  });

  it("answers 404 with DingTalk's code and request id for an unknown conversation", async () => {
    const result = await post({ ...linkRequest(), openConversationId: "cid-nobody" });
    expect(result.statusCode).toBe(404);
    const error = errorOf(result);
    expect(error.code).toBe("conversationNotExist");
    expect(error.requestId).toMatch(/\S+/);
    expect(error.requestId).not.toMatch(/^req-/); // DingTalk's id, not ours
  });

  it("answers 400 with DingTalk's paramError.dentryId for an unknown file (send-link's error table has no 404 for it)", async () => {
    const result = await post({ ...linkRequest(), dentryId: "999999" });
    expect(result.statusCode).toBe(400);
    expect(errorOf(result).code).toBe("paramError.dentryId");
  });

  it("answers 429 when DingTalk keeps throttling after the client's retries", async () => {
    sandbox.addFaults({ api: "sendLink", kind: "qpsLimit" });
    const result = await post(linkRequest());
    expect(result.statusCode).toBe(429);
    expect(errorOf(result).code).toBe("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi");
  }, 60_000);

  it("answers 413 for an oversized body before checking anything else", async () => {
    const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      signedHttpEvent(secret, "x".repeat(70 * 1024)),
    );
    expect(result.statusCode).toBe(413);
  });
});

describe("send-link from SQS and EventBridge", () => {
  it("dead-letters requests that can never succeed with their reason; the rest of the batch succeeds", async () => {
    const sample = sampleEvent<Lambda.SQSEvent>("send-link.sqs.json");
    const template = sample.Records[0] as Lambda.SQSEvent["Records"][number];
    const event: Lambda.SQSEvent = {
      Records: [
        { ...template, messageId: "m-good", body: body(linkRequest()) },
        { ...template, messageId: "m-bad", body: body({ spaceId: "sandbox-space" }) },
        { ...template, messageId: "m-not-json", body: "{" },
        {
          ...template,
          messageId: "m-no-conversation",
          body: body({ ...linkRequest(), openConversationId: "cid-x" }),
        },
      ],
    };
    emulator.reset();
    const before = sandbox.sentLinks().length;
    const result = await invoke<Lambda.SQSBatchResponse>(event);
    expect(result.batchItemFailures).toEqual([]);
    expect(sandbox.sentLinks().length - before).toBe(1);
    const dead = (emulator.inspectQueue("send-link-dlq")?.messages.ready ?? []).map(
      (m) =>
        JSON.parse(m.body) as { body: string; error: { code: string; message: string; requestId?: string } },
    );
    const byCode = Object.fromEntries(dead.map((d) => [d.error.code, d]));
    expect(Object.keys(byCode).sort()).toEqual(["InvalidJson", "InvalidRequest", "conversationNotExist"]);
    expect(byCode.InvalidRequest?.error.message).toContain("dentryId: is required");
    expect(byCode.conversationNotExist?.error.requestId).toMatch(/\S/);
    expect(byCode.InvalidJson?.body).toBe("{");
    // Redelivering the good message sends nothing again.
    const again = await invoke<Lambda.SQSBatchResponse>({ Records: [event.Records[0]] });
    expect(again.batchItemFailures).toEqual([]);
    expect(sandbox.sentLinks().length - before).toBe(1);
  });

  it("reports a throttled request as a batch item failure so SQS redelivers it later", async () => {
    sandbox.addFaults({ api: "sendLink", kind: "qpsLimit" });
    const template = sampleEvent<Lambda.SQSEvent>("send-link.sqs.json")
      .Records[0] as Lambda.SQSEvent["Records"][number];
    const result = await invoke<Lambda.SQSBatchResponse>({
      Records: [{ ...template, messageId: "m-throttled", body: body(linkRequest()) }],
    });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m-throttled" }]);
  }, 60_000);

  it("sends the link for an EventBridge SendLinkRequested event, once per event id", async () => {
    const sample = sampleEvent<Lambda.EventBridgeEvent<string, unknown>>("send-link.eventbridge.json");
    const event = { ...sample, id: `evt-${Date.now()}`, detail: linkRequest() };
    const before = sandbox.sentLinks().length;
    const result = await invoke<{ file: { id: string } }>(event);
    expect(result.file.id).toBe(fileId);
    await invoke(event);
    expect(sandbox.sentLinks().length - before).toBe(1);
  });

  it("fails an EventBridge event with a reason when the detail is malformed", async () => {
    const sample = sampleEvent<Lambda.EventBridgeEvent<string, unknown>>("send-link.eventbridge.json");
    await expect(invoke({ ...sample, detail: { spaceId: "x" } })).rejects.toThrow(/dentryId: is required/);
  });
});
