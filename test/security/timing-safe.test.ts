/**
 * Signatures are compared in constant time. A statistical timing test would be flaky on a shared machine,
 * so this shows it by what the code does: which compare each check calls, with what, and that the compare
 * reads every byte wherever the inputs differ:
 * - Standard Webhooks (lib/signatures/verify.ts → standardwebhooks' Webhook.verify): HMAC-SHA256 compared with
 *   the library's own timingSafeEqual (a length check on public lengths, then an OR-accumulated XOR loop);
 * - DingTalk callbacks (lib/dingtalk-events/crypto.ts): the SHA-1 signature and the owner key compared with
 *   node:crypto's timingSafeEqual.
 */
import * as nodeCrypto from "node:crypto";
import { createRequire } from "node:module";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  callbackKeys,
  callbackSignature,
  decryptMessage,
  encryptMessage,
  signatureMatches,
} from "../../lib/dingtalk-events/crypto";
import { handlePush, type PushDeps } from "../../lib/dingtalk-events/handle";
import { AppError } from "../../lib/errors";
import { signWebhook, verifyWebhook } from "../../lib/signatures/verify";

// Spy on node:crypto's timingSafeEqual as lib/dingtalk-events/crypto.ts imports it (the real one runs).
vi.mock("node:crypto", async (importOriginal) => {
  const original = await importOriginal<typeof import("node:crypto")>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const require = createRequire(import.meta.url);

afterEach(() => vi.mocked(nodeCrypto.timingSafeEqual).mockClear());

describe("Standard Webhooks signatures (standardwebhooks)", () => {
  const secret = `whsec_${Buffer.from("timing-safe-test-secret").toString("base64")}`;
  const body = '{"spaceId":"s","dentryId":"d"}';

  it("the library's timingSafeEqual reads every byte whatever the first difference (no early exit)", () => {
    const { timingSafeEqual } = require("standardwebhooks/dist/timing_safe_equal") as {
      timingSafeEqual: (a: Uint8Array, b: Uint8Array) => boolean;
    };
    const reads = (a: Uint8Array, b: Uint8Array) => {
      const getUint8 = DataView.prototype.getUint8;
      let count = 0;
      DataView.prototype.getUint8 = function (this: DataView, offset: number) {
        count++;
        return getUint8.call(this, offset);
      };
      try {
        return { equal: timingSafeEqual(a, b), count };
      } finally {
        DataView.prototype.getUint8 = getUint8;
      }
    };
    const right = new TextEncoder().encode("v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=");
    const firstDiffers = right.slice();
    firstDiffers[0] = (firstDiffers[0] as number) ^ 1;
    const lastDiffers = right.slice();
    lastDiffers[right.length - 1] = (lastDiffers[right.length - 1] as number) ^ 1;
    // Both inputs, every byte, in every case: the time does not depend on where they differ.
    expect(reads(right, right.slice())).toEqual({ equal: true, count: 2 * right.length });
    expect(reads(firstDiffers, right)).toEqual({ equal: false, count: 2 * right.length });
    expect(reads(lastDiffers, right)).toEqual({ equal: false, count: 2 * right.length });
    // Only a length, which is public (every v1 signature has the same), ends it early.
    expect(reads(right.subarray(1), right)).toEqual({ equal: false, count: 0 });
  });

  it("at run time, every candidate signature goes through that timingSafeEqual", () => {
    const module = require("standardwebhooks/dist/timing_safe_equal") as {
      timingSafeEqual: (a: Uint8Array, b: Uint8Array) => boolean;
    };
    const original = module.timingSafeEqual;
    const seen: Array<{ a: string; b: string; result: boolean }> = [];
    module.timingSafeEqual = (a, b) => {
      const result = original(a, b);
      seen.push({ a: Buffer.from(a).toString(), b: Buffer.from(b).toString(), result });
      return result;
    };
    try {
      const headers = signWebhook(secret, "msg_timing", body);
      const good = (headers["webhook-signature"] as string).slice(3);
      // Same length as the right one, differing only in the last character: the worst case for an early exit.
      const wrong = `${good.slice(0, -2)}${good.at(-2) === "A" ? "B" : "A"}=`;
      expect(verifyWebhook([secret], body, headers).id).toBe("msg_timing");
      expect(() => verifyWebhook([secret], body, { ...headers, "webhook-signature": `v1,${wrong}` })).toThrow(
        AppError,
      );
      expect(() =>
        verifyWebhook([secret], body, { ...headers, "webhook-signature": `v1,${wrong} v1,${good}` }),
      ).not.toThrow();
      expect(seen).toEqual([
        { a: good, b: good, result: true },
        { a: wrong, b: good, result: false },
        { a: wrong, b: good, result: false },
        { a: good, b: good, result: true },
      ]);
    } finally {
      module.timingSafeEqual = original;
    }
  });
});

describe("DingTalk callback signatures and owner key (lib/dingtalk-events/crypto.ts)", () => {
  const keys = callbackKeys("token-t", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456", "app-key");
  const spy = () => vi.mocked(nodeCrypto.timingSafeEqual);

  it("compares the hex SHA-1 with node:crypto's timingSafeEqual (case folded first, lengths are public)", () => {
    const right = callbackSignature(keys.token, "1700000000000", "n", "enc");
    const wrong = `${right.slice(0, -1)}${right.endsWith("0") ? "1" : "0"}`;
    expect(signatureMatches(keys, right.toUpperCase(), "1700000000000", "n", "enc")).toBe(true);
    expect(signatureMatches(keys, wrong, "1700000000000", "n", "enc")).toBe(false);
    expect(
      spy().mock.calls.map(([a, b]) => [
        Buffer.from(a as Buffer).toString(),
        Buffer.from(b as Buffer).toString(),
      ]),
    ).toEqual([
      [right, right],
      [wrong, right],
    ]);
    expect(spy().mock.results.map((r) => r.value)).toEqual([true, false]);
    // A signature of another length is refused on its length alone (SHA-1 hex is always 40 characters).
    spy().mockClear();
    expect(signatureMatches(keys, "abc", "1700000000000", "n", "enc")).toBe(false);
    expect(spy()).not.toHaveBeenCalled();
  });

  it("compares the decrypted owner key with timingSafeEqual too", () => {
    const sealed = encryptMessage(keys, '{"EventType":"check_url"}');
    expect(decryptMessage(keys, sealed)).toBe('{"EventType":"check_url"}');
    expect(spy()).toHaveBeenCalledWith(Buffer.from("app-key"), Buffer.from("app-key"));
    const other = callbackKeys(keys.token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456", "app-kez");
    expect(() => decryptMessage(other, sealed)).toThrow(/another owner key/);
    expect(spy()).toHaveBeenLastCalledWith(Buffer.from("app-key"), Buffer.from("app-kez"));
  });

  it("a push gets in only after its signature went through timingSafeEqual, and a forged one is 401", async () => {
    const encrypt = encryptMessage(keys, '{"EventType":"check_url"}');
    const timestamp = String(Date.now());
    const right = callbackSignature(keys.token, timestamp, "n", encrypt);
    const forged = `${right.slice(0, -1)}${right.endsWith("0") ? "1" : "0"}`;
    const push = (signature: string) =>
      handlePush(
        {
          rawQueryString: `msg_signature=${signature}&timestamp=${timestamp}&nonce=n`,
          queryStringParameters: { msg_signature: signature, timestamp, nonce: "n" },
          body: JSON.stringify({ encrypt }),
          isBase64Encoded: false,
          headers: {},
        } as unknown as APIGatewayProxyEventV2,
        // A check_url push queues nothing: a queue that fails the test if it is used.
        {
          keys,
          enqueueOnce: (() => {
            throw new Error("nothing may be queued");
          }) as unknown as PushDeps["enqueueOnce"],
          maxSkewMs: 300_000,
          maxBodyBytes: 65_536,
          allowedUnionIds: [],
        },
      );
    const compared = () =>
      spy().mock.calls.map(([a, b]) => [
        Buffer.from(a as Buffer).toString(),
        Buffer.from(b as Buffer).toString(),
      ]);
    await expect(push(forged)).rejects.toMatchObject({ status: 401, code: "InvalidPush" });
    expect(compared()).toEqual([[forged, right]]);
    spy().mockClear();
    expect((await push(right)).statusCode).toBe(200);
    // The signature, then the owner key inside the decrypted message.
    expect(compared()).toEqual([
      [right, right],
      ["app-key", "app-key"],
    ]);
  });
});
