/**
 * Stale timestamps and replays, through the real handlers against the sandbox, fauxqs and dynalite:
 * - a signed webhook more than 5 minutes old or ahead is refused (401) before anything happens;
 * - a replay (same webhook-id: a captured request sent again as is, re-signed with a fresh timestamp, or
 *   several at once) gets the first answer and causes no second side effect (no second link, no second job);
 * - the same webhook-id with another body is refused (422), causing nothing;
 * - a DingTalk push replayed (as is, or re-encrypted by DingTalk's retry with the same eventId) queues one job.
 */
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import fc from "fast-check";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildPush, storageEvent } from "../../sandbox/push";
import { pushHttpEvent } from "../dingtalk-events/helpers";
import { runs } from "../fuzz/arbitraries";
import {
  EVENT_KEYS,
  errorOf,
  invokeHttp,
  QUEUES,
  signedEvent,
  useHandler,
  useStack,
} from "../support/handler-stack";

let fileId: string;

const stack = useStack();
const sendLink = useHandler("send-link");
const archive = useHandler("archive-intake");
const events = useHandler("dingtalk-events");
beforeAll(async () => {
  fileId = stack.sandbox.dentryIdByPath("README.txt") as string;
});

beforeEach(() => stack.emulator.reset());

let counter = 0;
const newId = () => `msg_replay_${++counter}_${Date.now()}`;
const linkBody = () =>
  JSON.stringify({ spaceId: "sandbox-space", dentryId: fileId, openConversationId: "cid-sandbox" });
const archiveBody = () => JSON.stringify({ spaceId: "sandbox-space", dentryId: fileId });
const links = () => stack.sandbox.sentLinks().length;
const http = invokeHttp;

describe("stale timestamps", () => {
  it("more than 5 minutes away either way: 401 before any side effect; within: accepted", async () => {
    const skew = fc.oneof(
      fc.integer({ min: 301, max: 10 * 365 * 24 * 3600 }),
      fc.integer({ min: -10 * 365 * 24 * 3600, max: -301 }),
      fc.integer({ min: -290, max: 290 }),
    );
    await fc.assert(
      fc.asyncProperty(
        skew,
        fc.constantFrom("send-link", "archive-intake" as const),
        async (seconds, route) => {
          stack.emulator.reset();
          const before = links();
          const body = route === "send-link" ? linkBody() : archiveBody();
          const at = new Date(Date.now() + seconds * 1000);
          const event = signedEvent(route, body, { id: newId(), at });
          const result = await http(route === "send-link" ? sendLink : archive, event);
          const sideEffects = links() - before + stack.messages(QUEUES.archive).length;
          if (Math.abs(seconds) > 300) {
            expect(result.statusCode).toBe(401);
            expect(errorOf(result).message).toMatch(seconds > 0 ? /too new/ : /too old/);
            expect(sideEffects).toBe(0);
          } else {
            expect(result.statusCode).toBe(route === "send-link" ? 200 : 202);
            expect(sideEffects).toBe(1);
          }
        },
      ),
      runs(40),
    );
  });
});

describe("replayed webhooks", () => {
  it("send-link: the captured request again, re-signed, and five at once: one link, the first answer", async () => {
    const id = newId();
    const body = linkBody();
    const captured = signedEvent("send-link", body, { id: id });
    const before = links();
    const first = await http(sendLink, captured);
    expect(first.statusCode).toBe(200);
    const again = await http(sendLink, captured);
    const resigned = await http(sendLink, signedEvent("send-link", body, { id: id }));
    expect(again.body).toBe(first.body);
    expect(resigned.body).toBe(first.body);
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => http(sendLink, signedEvent("send-link", body, { id: id }))),
    );
    for (const answer of burst) expect(answer.body).toBe(first.body);
    expect(links() - before).toBe(1);
  });

  it("send-link: five first deliveries at once send one link; the others wait (409) or get the first answer", async () => {
    const id = newId();
    const body = linkBody();
    const before = links();
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => http(sendLink, signedEvent("send-link", body, { id: id }))),
    );
    expect(links() - before).toBe(1);
    for (const answer of burst) {
      expect([200, 409]).toContain(answer.statusCode);
      if (answer.statusCode === 409) expect(errorOf(answer).code).toBe("RequestInProgress");
    }
  });

  it("the same webhook-id with another body: 422, nothing sent or queued", async () => {
    const id = newId();
    await http(sendLink, signedEvent("send-link", linkBody(), { id: id }));
    const before = links();
    const other = JSON.stringify({ ...JSON.parse(linkBody()), unionId: "someone-else" });
    const result = await http(sendLink, signedEvent("send-link", other, { id: id }));
    expect(result.statusCode).toBe(422);
    expect(errorOf(result).code).toBe("IdempotencyKeyReused");
    expect(links()).toBe(before);

    const archiveId = newId();
    await http(archive, signedEvent("archive-intake", archiveBody(), { id: archiveId }));
    const changed = JSON.stringify({ spaceId: "sandbox-space", dentryId: fileId, version: 1 });
    const refused = await http(archive, signedEvent("archive-intake", changed, { id: archiveId }));
    expect(refused.statusCode).toBe(422);
    expect(stack.messages(QUEUES.archive)).toHaveLength(1);
  });

  it("archive: a replayed webhook queues one job and answers the same job id", async () => {
    const id = newId();
    const body = archiveBody();
    const captured = signedEvent("archive-intake", body, { id: id });
    const answers = [
      await http(archive, captured),
      await http(archive, captured),
      ...(await Promise.all(
        Array.from({ length: 4 }, () => http(archive, signedEvent("archive-intake", body, { id: id }))),
      )),
    ];
    const first = answers[0] as APIGatewayProxyStructuredResultV2;
    expect(first.statusCode).toBe(202);
    for (const answer of answers) expect(answer.body).toBe(first.body);
    const { jobId } = JSON.parse(first.body as string) as { jobId: string };
    expect(stack.messages(QUEUES.archive)).toEqual([{ spaceId: "sandbox-space", dentryId: fileId, jobId }]);
  });
});

describe("replayed DingTalk pushes", () => {
  it("the same push again, and DingTalk's re-encrypted retry of the same event: one job", async () => {
    const event = storageEvent("storage_dentry_update", { spaceId: "sandbox-space", dentryId: fileId });
    const push = buildPush(event, EVENT_KEYS);
    const retry = buildPush(event, EVENT_KEYS); // new random prefix, nonce and signature, same eventId
    const answers = await Promise.all([
      invokeHttp(events, pushHttpEvent(push)),
      invokeHttp(events, pushHttpEvent(push)),
      invokeHttp(events, pushHttpEvent(retry)),
    ]);
    // A concurrent duplicate may be told to come back later (DingTalk retries); none queues a second job.
    for (const answer of answers) expect([200, 409]).toContain(answer.statusCode);
    await expect(invokeHttp(events, pushHttpEvent(retry))).resolves.toMatchObject({
      statusCode: 200,
    });
    expect(stack.messages(QUEUES.archive)).toHaveLength(1);
  });

  it("a captured push replayed after the 5-minute window is refused", async () => {
    const old = buildPush(
      storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId: fileId }),
      {
        ...EVENT_KEYS,
        timestamp: Date.now() - 6 * 60_000,
      },
    );
    const result = await invokeHttp(events, pushHttpEvent(old));
    expect(result.statusCode).toBe(401);
    expect(errorOf(result).code).toBe("InvalidPush"); // the one answer to any push that fails verification
    expect(stack.messages(QUEUES.archive)).toEqual([]);
  });
});
