/**
 * A link is posted at most once per request, through the real send-link handler, the real DingTalk client,
 * dynalite's idempotency records and fauxqs's dead-letter queue, against a sandbox configured with real
 * DingTalk id shapes (a base64 conversation id with "/" and "="). Links are counted in the sandbox's sentLinks.
 */
import type * as Lambda from "aws-lambda";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../../sandbox/server";
import type { FaultRule } from "../../sandbox/types";
import { errorOf, invoke, QUEUES, useHandler, useStack, WEBHOOK_SECRETS } from "../support/handler-stack";
import { sampleEvent, signedHttpEvent } from "../support/lambda";
import { REAL_IDS, REAL_SANDBOX_IDS } from "../support/real-ids";

/** Short enough that a stalled answer costs the test half a second, not the default 10 s. */
const TIMEOUT_MS = 500;

let sandbox: Sandbox;
let fileId: string;

const stack = useStack({
  sandbox: REAL_SANDBOX_IDS,
  env: {
    DINGTALK_TIMEOUT_MS: String(TIMEOUT_MS),
    // Requests here may act as any of the corpus's real-shaped union ids.
    ALLOWED_UNION_IDS: REAL_IDS.unionIds.join(","),
  },
});
const handler = useHandler("send-link");
beforeAll(async () => {
  sandbox = stack.sandbox;
  fileId = sandbox.dentryIdByPath("报告 2026.pdf") as string;
});
beforeEach(() => {
  sandbox.clearFaults();
  stack.emulator.reset();
});

const request = () => ({
  spaceId: REAL_SANDBOX_IDS.spaceId,
  dentryId: fileId,
  openConversationId: REAL_SANDBOX_IDS.conversationId,
});

describe("real DingTalk ids", () => {
  it("a signed send-link to cidOuTaLz7/D7zkkM/5PlrQQA== reaches DingTalk and posts the link", async () => {
    const before = sandbox.sentLinks().length;
    const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      handler,
      signedHttpEvent(WEBHOOK_SECRETS["send-link"], JSON.stringify(request())),
    );
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body as string).file).toMatchObject({
      id: fileId,
      conversationId: "cidOuTaLz7/D7zkkM/5PlrQQA==",
    });
    expect(sandbox.sentLinks().slice(before)).toEqual([
      expect.objectContaining({
        openConversationId: "cidOuTaLz7/D7zkkM/5PlrQQA==",
        unionId: "ZsGGk1JnRAiPDsm8WQiSYrAiEiE",
        spaceId: "26373617452",
      }),
    ]);
  });

  it.each(REAL_IDS.conversationIds)(
    "reaches DingTalk for any conversation id (%s), known or not",
    async (cid) => {
      const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
        handler,
        signedHttpEvent(
          WEBHOOK_SECRETS["send-link"],
          JSON.stringify({ ...request(), openConversationId: cid }),
        ),
      );
      // The known one is sent; the other is DingTalk's own 404, not a local 400.
      if (cid === REAL_SANDBOX_IDS.conversationId) expect(result.statusCode).toBe(200);
      else expect([result.statusCode, errorOf(result).code]).toEqual([404, "conversationNotExist"]);
    },
  );

  it.each(REAL_IDS.unionIds)("takes a real-shaped unionId (%s) to DingTalk", async (unionId) => {
    const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      handler,
      signedHttpEvent(WEBHOOK_SECRETS["send-link"], JSON.stringify({ ...request(), unionId })),
    );
    if (unionId === REAL_SANDBOX_IDS.unionId) expect(result.statusCode).toBe(200);
    else expect([result.statusCode, errorOf(result).code]).toEqual([403, "permissionDenied"]);
  });
});

describe("an answer with fields we did not expect", () => {
  it("is a success: DingTalk's answer is stored and returned as it came, once", async () => {
    const fields = { conversationFileVersion: 2, file: { id: fileId, newerField: ["x"] } };
    sandbox.addFaults({ api: "sendLink", kind: "extraFields", fields });
    const before = sandbox.sentLinks().length;
    const id = `msg_${Math.random().toString(36).slice(2)}`;
    const body = JSON.stringify(request());
    const send = () =>
      invoke<Lambda.APIGatewayProxyStructuredResultV2>(
        handler,
        signedHttpEvent(WEBHOOK_SECRETS["send-link"], body, { id }),
      );
    const first = await send();
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body as string)).toEqual(fields);
    // The redelivery is answered from the stored record: the same body, no second link.
    const again = await send();
    expect([again.statusCode, again.body]).toEqual([200, first.body]);
    expect(sandbox.sentLinks().length - before).toBe(1);
  });
});

const FAULTS: Array<[label: string, rule: FaultRule]> = [
  ["posts the link, then answers 500", { api: "sendLink", kind: "systemError", afterEffect: true }],
  ["posts the link, then stalls past the client's timeout", { api: "sendLink", kind: "stall" }],
];

describe.each(FAULTS)("DingTalk %s", (_label, rule) => {
  it("the same webhook-id 3 times: one link, 502 outcomeUnknown with DingTalk's request id each time", async () => {
    sandbox.addFaults(rule);
    const before = sandbox.sentLinks().length;
    const id = `msg_${Math.random().toString(36).slice(2)}`;
    const body = JSON.stringify(request());
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(
        await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
          handler,
          signedHttpEvent(WEBHOOK_SECRETS["send-link"], body, { id }),
        ),
      );
    }
    expect(sandbox.sentLinks().length - before).toBe(1);
    expect(answers.map((a) => a.statusCode)).toEqual([502, 502, 502]);
    const errors = answers.map(errorOf);
    expect(errors[0]).toMatchObject({
      code: "outcomeUnknown",
      message: expect.stringMatching(/outcome is unknown/),
    });
    // DingTalk's request id: from the error body, or from the headers that came before the body stalled.
    expect(errors[0]?.requestId).toMatch(/^[0-9A-F-]{20,}$/i);
    // The same answer each time: the recorded outcome, not a new attempt.
    expect(errors[1]).toEqual(errors[0]);
    expect(errors[2]).toEqual(errors[0]);
  });

  it("the same SQS message delivered 3 times: one link, dead-lettered with the reason", async () => {
    sandbox.addFaults(rule);
    const before = sandbox.sentLinks().length;
    const template = sampleEvent<Lambda.SQSEvent>("send-link.sqs.json")
      .Records[0] as Lambda.SQSEvent["Records"][number];
    const record = {
      ...template,
      messageId: `m-${Math.random().toString(36).slice(2)}`,
      body: JSON.stringify(request()),
    };
    for (let i = 0; i < 3; i++) {
      const result = await invoke<Lambda.SQSBatchResponse>(handler, { Records: [record] });
      // Not redelivered by SQS: parked in the dead-letter queue for a person to decide.
      expect(result.batchItemFailures).toEqual([]);
    }
    expect(sandbox.sentLinks().length - before).toBe(1);
    const dead = stack.messages(QUEUES.sendLinkDlq) as Array<{
      body: string;
      error: { code: string; message: string };
    }>;
    expect(dead.length).toBeGreaterThanOrEqual(1);
    for (const entry of dead) {
      expect(entry.error.code).toBe("outcomeUnknown");
      expect(entry.body).toBe(record.body);
    }
  });

  it("the same EventBridge event 3 times: one link, each invocation fails with outcomeUnknown", async () => {
    sandbox.addFaults(rule);
    const before = sandbox.sentLinks().length;
    const sample = sampleEvent<Lambda.EventBridgeEvent<string, unknown>>("send-link.eventbridge.json");
    const event = { ...sample, id: `evt-${Math.random().toString(36).slice(2)}`, detail: request() };
    for (let i = 0; i < 3; i++)
      await expect(invoke(handler, event)).rejects.toMatchObject({ code: "outcomeUnknown" });
    expect(sandbox.sentLinks().length - before).toBe(1);
  });
});

describe("a send that succeeds after the fault is gone", () => {
  it("a new webhook-id sends again (a person decided to): ids, not bodies, make a request", async () => {
    const before = sandbox.sentLinks().length;
    const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      handler,
      signedHttpEvent(WEBHOOK_SECRETS["send-link"], JSON.stringify(request())),
    );
    expect(result.statusCode).toBe(200);
    expect(sandbox.sentLinks().length - before).toBe(1);
  });
});

describe("the invocation's end bounds the send: nothing starts that the end of the invocation could cut", () => {
  // The handler keeps 3 s after the send for recording its outcome and answering; the client's attempt
  // timeout is TIMEOUT_MS. A Lambda killed mid-send would leave the link posted or not with nothing recorded.
  const AFTER_SEND_MS = 3_000;

  it("too little time left for one attempt: not sent, retryable; the redelivery with time sends once", async () => {
    const before = sandbox.sentLinks().length;
    const calls = sandbox.calls().sendLink ?? 0;
    const event = signedHttpEvent(WEBHOOK_SECRETS["send-link"], JSON.stringify(request()));
    const cut = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      handler,
      event,
      AFTER_SEND_MS + TIMEOUT_MS / 2,
    );
    expect(cut.statusCode).toBe(503);
    expect((sandbox.calls().sendLink ?? 0) - calls).toBe(0);
    expect(sandbox.sentLinks().length - before).toBe(0);
    // Nothing was recorded for that webhook-id: its redelivery runs, and posts the link once.
    const again = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(handler, event);
    expect(again.statusCode).toBe(200);
    expect(sandbox.sentLinks().length - before).toBe(1);
  });

  it("throttled, and a second attempt could outlive the invocation: not repeated", async () => {
    sandbox.addFaults({ api: "sendLink", kind: "qpsLimit", times: 5 });
    const calls = sandbox.calls().sendLink ?? 0;
    const before = sandbox.sentLinks().length;
    const result = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      handler,
      signedHttpEvent(WEBHOOK_SECRETS["send-link"], JSON.stringify(request())),
      AFTER_SEND_MS + TIMEOUT_MS + 300,
    );
    // One attempt fit; the QPS limit's 1 s wait plus another attempt did not.
    expect((sandbox.calls().sendLink ?? 0) - calls).toBe(1);
    expect(sandbox.sentLinks().length - before).toBe(0);
    expect(result.statusCode).toBe(429);
    expect(JSON.parse(result.body as string).error.code).toBe(
      "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
    );
  });
});
