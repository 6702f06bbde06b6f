import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors";
import { signWebhook, verifyWebhook } from "../../lib/signatures/verify";

const secret = `whsec_${Buffer.from("a-test-secret-of-some-length").toString("base64")}`;
const body = JSON.stringify({ spaceId: "s", dentryId: "d", openConversationId: "c" });

function expect401(run: () => unknown, message: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(401);
    expect((error as AppError).code).toBe("InvalidSignature");
    expect((error as AppError).message).toMatch(message);
    return;
  }
  throw new Error("expected a 401");
}

describe("verifyWebhook", () => {
  it("accepts a body signed with the secret and returns its id", () => {
    const headers = signWebhook(secret, "msg_1", body);
    expect(verifyWebhook([secret], body, headers)).toEqual({ id: "msg_1", body });
  });

  it("accepts headers in any case", () => {
    const headers = Object.fromEntries(
      Object.entries(signWebhook(secret, "msg_1", body)).map(([k, v]) => [k.toUpperCase(), v]),
    );
    expect(verifyWebhook([secret], body, headers).id).toBe("msg_1");
  });

  it("refuses a tampered body, another secret, another id", () => {
    const headers = signWebhook(secret, "msg_1", body);
    expect401(() => verifyWebhook([secret], body.replace('"d"', '"x"'), headers), /No matching signature/);
    const other = `whsec_${Buffer.from("another-secret-entirely").toString("base64")}`;
    expect401(() => verifyWebhook([other], body, headers), /No matching signature/);
    expect401(
      () => verifyWebhook([secret], body, { ...headers, "webhook-id": "msg_2" }),
      /No matching signature/,
    );
  });

  it("refuses timestamps more than 5 minutes old or ahead", () => {
    const old = signWebhook(secret, "msg_1", body, new Date(Date.now() - 5 * 60_000 - 10_000));
    expect401(() => verifyWebhook([secret], body, old), /too old/);
    const ahead = signWebhook(secret, "msg_1", body, new Date(Date.now() + 5 * 60_000 + 10_000));
    expect401(() => verifyWebhook([secret], body, ahead), /too new/);
    const recent = signWebhook(secret, "msg_1", body, new Date(Date.now() - 4 * 60_000));
    expect(verifyWebhook([secret], body, recent).id).toBe("msg_1");
  });

  it("names the missing headers", () => {
    const { "webhook-signature": _dropped, ...headers } = signWebhook(secret, "msg_1", body);
    expect401(
      () => verifyWebhook([secret], body, headers),
      /Missing webhook signature header\(s\): webhook-signature/,
    );
    expect401(() => verifyWebhook([secret], body, {}), /webhook-id, webhook-timestamp, webhook-signature/);
  });

  it("accepts any one of several signatures (secret rotation), and ignores unknown versions", () => {
    const headers = signWebhook(secret, "msg_1", body);
    const rotated = {
      ...headers,
      "webhook-signature": `v1a,xyz v1,bm90LWl0 ${headers["webhook-signature"]}`,
    };
    expect(verifyWebhook([secret], body, rotated).id).toBe("msg_1");
  });

  it("refuses a garbage timestamp", () => {
    const headers = { ...signWebhook(secret, "msg_1", body), "webhook-timestamp": "yesterday" };
    expect401(() => verifyWebhook([secret], body, headers), /Invalid Signature Headers/);
  });
});
