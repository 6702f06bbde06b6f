/**
 * ALLOWED_UNION_IDS (default: just DINGTALK_UNION_ID): a request may act only as those DingTalk users,
 * whatever brings it — webhook, queue, bus or topic, for send-link and for archive. Anything else is refused
 * (403 unionIdNotAllowed; from a queue: dead-lettered with that code) before any DingTalk call.
 * The real handlers against the sandbox, fauxqs and dynalite.
 */
import type { APIGatewayProxyStructuredResultV2, SNSEvent } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import {
  errorOf,
  invoke,
  QUEUES,
  signedEvent,
  sqsEvent,
  useHandler,
  useStack,
} from "../support/handler-stack";
import { sampleEvent } from "../support/lambda";

const FOREIGN = "ZsGGk1JnRAiPDsm8WQiSYrAiEiE"; // a real-shaped union id of someone else
let fileId: string;

const stack = useStack();
const sendLink = useHandler("send-link");
const archive = useHandler("archive");
const archiveIntake = useHandler("archive-intake");
beforeAll(async () => {
  fileId = stack.sandbox.dentryIdByPath("报告 2026.pdf") as string;
});

const totalCalls = () => Object.values(stack.sandbox.calls()).reduce((sum, n) => sum + n, 0);
let seq = 0;
const newId = () => `msg_union_${++seq}_${Date.now()}`;
const linkRequest = (unionId?: string) => ({
  spaceId: "sandbox-space",
  dentryId: fileId,
  openConversationId: "cid-sandbox",
  ...(unionId ? { unionId } : {}),
});
const archiveRequest = (unionId?: string) => ({
  spaceId: "sandbox-space",
  dentryId: fileId,
  ...(unionId ? { unionId } : {}),
});

const signedRequest = (route: "send-link" | "archive-intake", request: unknown) =>
  signedEvent(route, JSON.stringify(request), {
    id: newId(),
    headers: { "content-type": "application/json" },
  });

const eventBridge = (detail: unknown) => ({
  ...sampleEvent<Record<string, unknown>>("archive.eventbridge.json"),
  id: newId(),
  detail,
});

const snsEvent = (message: unknown): SNSEvent => ({
  Records: [
    {
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: "arn:aws:sns:us-east-1:123456789012:requests:1",
      Sns: {
        Type: "Notification",
        MessageId: newId(),
        TopicArn: "arn:aws:sns:us-east-1:123456789012:requests",
        Subject: "",
        Message: JSON.stringify(message),
        Timestamp: new Date().toISOString(),
        SignatureVersion: "1",
        Signature: "",
        SigningCertUrl: "",
        UnsubscribeUrl: "",
        MessageAttributes: {},
      },
    },
  ],
});

describe("send-link", () => {
  it("webhook: 403 unionIdNotAllowed naming the field, and no DingTalk call at all", async () => {
    const before = totalCalls();
    const result = await invoke<APIGatewayProxyStructuredResultV2>(
      sendLink,
      signedRequest("send-link", linkRequest(FOREIGN)),
    );
    expect(result.statusCode).toBe(403);
    expect(errorOf(result)).toMatchObject({
      code: "unionIdNotAllowed",
      details: { fields: [{ field: "unionId", problem: "is not in ALLOWED_UNION_IDS" }] },
    });
    expect(totalCalls()).toBe(before);
  });

  it("webhook: the default operator, named or not, is allowed", async () => {
    for (const unionId of [undefined, stack.sandbox.options.unionId]) {
      const result = await invoke<APIGatewayProxyStructuredResultV2>(
        sendLink,
        signedRequest("send-link", linkRequest(unionId)),
      );
      expect(result.statusCode, String(unionId)).toBe(200);
    }
  });

  it("queue: dead-lettered with the reason, the rest of the batch sent, no DingTalk call for it", async () => {
    const sentBefore = stack.sandbox.sentLinks().length;
    const before = totalCalls();
    const result = await invoke<{ batchItemFailures: unknown[] }>(
      sendLink,
      sqsEvent([JSON.stringify(linkRequest(FOREIGN))], `foreign-${Date.now()}`),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(totalCalls()).toBe(before);
    expect(stack.sandbox.sentLinks()).toHaveLength(sentBefore);
    expect(stack.messages(QUEUES.sendLinkDlq).at(-1)).toMatchObject({
      error: { code: "unionIdNotAllowed" },
    });
  });

  it("bus and topic: refused with 403 unionIdNotAllowed, no DingTalk call", async () => {
    const before = totalCalls();
    await expect(invoke(sendLink, eventBridge(linkRequest(FOREIGN)))).rejects.toMatchObject({
      status: 403,
      code: "unionIdNotAllowed",
    });
    await expect(invoke(sendLink, snsEvent(linkRequest(FOREIGN)))).rejects.toMatchObject({
      status: 403,
      code: "unionIdNotAllowed",
    });
    expect(totalCalls()).toBe(before);
  });
});

describe("archive", () => {
  it("webhook: 403 unionIdNotAllowed and nothing queued", async () => {
    const queued = stack.messages(QUEUES.archive).length;
    const result = await invoke<APIGatewayProxyStructuredResultV2>(
      archiveIntake,
      signedRequest("archive-intake", archiveRequest(FOREIGN)),
    );
    expect(result.statusCode).toBe(403);
    expect(errorOf(result).code).toBe("unionIdNotAllowed");
    expect(stack.messages(QUEUES.archive)).toHaveLength(queued);
  });

  it("queue, bus and topic: dead-lettered with unionIdNotAllowed, no DingTalk call, nothing stored", async () => {
    const before = totalCalls();
    const dead = stack.messages(QUEUES.archiveDlq).length;
    const batch = await invoke<{ batchItemFailures: unknown[] }>(
      archive,
      sqsEvent([JSON.stringify(archiveRequest(FOREIGN))], `foreign-archive-${Date.now()}`),
    );
    expect(batch.batchItemFailures).toEqual([]);
    expect(await invoke(archive, eventBridge(archiveRequest(FOREIGN)))).toMatchObject({
      status: "dead-lettered",
    });
    expect(await invoke(archive, snsEvent(archiveRequest(FOREIGN)))).toMatchObject({
      status: "dead-lettered",
    });
    expect(totalCalls()).toBe(before);
    const letters = stack.messages(QUEUES.archiveDlq).slice(dead);
    expect(letters).toHaveLength(3);
    for (const letter of letters) {
      expect(letter).toMatchObject({
        job: { unionId: FOREIGN },
        error: { code: "unionIdNotAllowed", status: 403 },
      });
    }
  });
});
