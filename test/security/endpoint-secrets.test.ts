/**
 * Each webhook endpoint has its own secret (WEBHOOK_SECRET_SEND_LINK, WEBHOOK_SECRET_ARCHIVE): a body signed
 * for one endpoint is refused at the other by its signature — before any schema looks at it, so this holds
 * even for a body both schemas would accept — and a holder of one secret cannot use the other endpoint.
 */
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import {
  errorOf,
  invoke,
  QUEUES,
  signedEvent,
  useHandler,
  useStack,
  WEBHOOK_SECRETS,
} from "../support/handler-stack";

let fileId: string;

const stack = useStack();
// POST /webhooks/archive is served by the archive-intake function.
const handlers = { "send-link": useHandler("send-link"), archive: useHandler("archive-intake") };
beforeAll(async () => {
  fileId = stack.sandbox.dentryIdByPath("报告 2026.pdf") as string;
});

const bodies = () => ({
  "send-link": JSON.stringify({
    spaceId: "sandbox-space",
    dentryId: fileId,
    openConversationId: "cid-sandbox",
  }),
  archive: JSON.stringify({ spaceId: "sandbox-space", dentryId: fileId }),
});

async function post(route: "send-link" | "archive", body: string, signedFor: "send-link" | "archive") {
  const fn = route === "archive" ? "archive-intake" : route;
  const event = signedEvent(fn, body, {
    id: `msg_cross_${Math.random()}`,
    secret: WEBHOOK_SECRETS[signedFor],
  });
  return invoke<APIGatewayProxyStructuredResultV2>(handlers[route], event);
}

describe("per-endpoint webhook secrets", () => {
  it("the two endpoints have different secrets", () => {
    expect(WEBHOOK_SECRETS["send-link"]).not.toBe(WEBHOOK_SECRETS.archive);
  });

  it("refuses at each endpoint a body signed with the other endpoint's secret (401), sending and queueing nothing", async () => {
    const links = stack.sandbox.sentLinks().length;
    const queued = stack.messages(QUEUES.archive).length;
    for (const [route, other] of [
      ["send-link", "archive"],
      ["archive", "send-link"],
    ] as const) {
      // The route's own body, a valid request there, but signed for the other endpoint.
      const result = await post(route, bodies()[route], other);
      expect(result.statusCode, route).toBe(401);
      expect(errorOf(result)).toMatchObject({
        code: "InvalidSignature",
        message: expect.stringMatching(/No matching signature/),
      });
    }
    expect(stack.sandbox.sentLinks()).toHaveLength(links);
    expect(stack.messages(QUEUES.archive)).toHaveLength(queued);
  });

  it("accepts each endpoint's own signature", async () => {
    expect((await post("send-link", bodies()["send-link"], "send-link")).statusCode).toBe(200);
    expect((await post("archive", bodies().archive, "archive")).statusCode).toBe(202);
  });
});
