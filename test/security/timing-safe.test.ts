/**
 * Signatures are compared in constant time. A statistical timing test would be flaky on a shared machine,
 * so this reads the code paths instead and checks at run time that the compare goes through them:
 * - Standard Webhooks (lib/webhooks/verify.ts → standardwebhooks' Webhook.verify): HMAC-SHA256 compared with
 *   the library's own timingSafeEqual (a length check on public lengths, then an OR-accumulated XOR loop);
 * - DingTalk callbacks (lib/dingtalk-events/crypto.ts): the SHA-1 signature and the owner key compared with
 *   node:crypto's timingSafeEqual.
 */
import * as nodeCrypto from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  callbackKeys,
  callbackSignature,
  decryptMessage,
  encryptMessage,
  signatureMatches,
} from "../../lib/dingtalk-events/crypto";
import { AppError } from "../../lib/errors";
import { signWebhook, verifyWebhook } from "../../lib/webhooks/verify";

// Spy on node:crypto's timingSafeEqual as lib/dingtalk-events/crypto.ts imports it (the real one runs).
vi.mock("node:crypto", async (importOriginal) => {
  const original = await importOriginal<typeof import("node:crypto")>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const require = createRequire(import.meta.url);
const source = (path: string) => readFileSync(require.resolve(path), "utf8");
const ours = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), "utf8");

afterEach(() => vi.mocked(nodeCrypto.timingSafeEqual).mockClear());

describe("Standard Webhooks signatures (standardwebhooks)", () => {
  const secret = `whsec_${Buffer.from("timing-safe-test-secret").toString("base64")}`;
  const body = '{"spaceId":"s","dentryId":"d"}';

  it("lib/webhooks/verify.ts leaves the comparison to Webhook.verify and compares nothing itself", () => {
    const verify = ours("lib/webhooks/verify.ts");
    expect(verify).toMatch(/\.verify\(body, lower, \{ jsonParse: false \}\)/);
    expect(verify).not.toMatch(/signature[^\n]*(===|!==|==|\.equals\(|localeCompare)/i);
  });

  it("the library compares with its timingSafeEqual, never with === on signatures", () => {
    const index = source("standardwebhooks/dist/index.js");
    expect(index).toMatch(/require\("\.\/timing_safe_equal"\)/);
    expect(index).toMatch(
      /\(0, timing_safe_equal_1\.timingSafeEqual\)\(encoder\.encode\(signature\), encoder\.encode\(expectedSignature\)\)/,
    );
    expect(index).not.toMatch(/(signature|expectedSignature|computedSignature)\s*(===|!==|==)\s*/i);
  });

  it("timingSafeEqual checks the (public) length first, then reads every byte with no early exit", () => {
    const compare = source("standardwebhooks/dist/timing_safe_equal.js");
    const body = /function timingSafeEqual\(a, b\) \{([\s\S]*?)\n\}/.exec(compare)?.[1] ?? "";
    const loop = /while \(\+\+i < length\) \{([\s\S]*?)\}/.exec(body)?.[1] ?? "";
    expect(loop.trim()).toBe("out |= a.getUint8(i) ^ b.getUint8(i);");
    expect(body.match(/return /g)).toHaveLength(2); // the length check, and the result after the loop
    expect(body).toMatch(/if \(a\.byteLength !== b\.byteLength\) \{\s*return false;\s*\}/);
    expect(body.trimEnd()).toMatch(/return out === 0;$/);
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

  it("the code compares signatures and keys nowhere else", () => {
    const crypto = ours("lib/dingtalk-events/crypto.ts");
    expect(crypto).not.toMatch(
      /(signature|expected|given|actual|owner|ours)\s*(===|!==|==)\s*(?!undefined|null)/i,
    );
    expect(crypto.match(/timingSafeEqual\(/g)).toHaveLength(2);
    const push = ours("lib/dingtalk-events/handle-push.ts");
    expect(push).toMatch(/signatureMatches\(keys, signature, timestamp, nonce, encrypt\)/);
    expect(push).not.toMatch(/signature\s*(===|!==|==)/);
  });
});
