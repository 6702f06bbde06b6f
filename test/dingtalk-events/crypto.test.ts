import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildReply,
  CallbackCryptoError,
  callbackKeys,
  callbackSignature,
  decryptMessage,
  encryptMessage,
  randomNonce,
  signatureMatches,
} from "../../lib/dingtalk-events/crypto";
import { KEYS, PUBLISHED, rawEncrypt } from "./helpers";

const keys = callbackKeys(KEYS.token, KEYS.aesKey, KEYS.appKey);
const published = callbackKeys(PUBLISHED.token, PUBLISHED.aesKey, PUBLISHED.ownerKey);

/** A plaintext in DingTalk's layout, with the given length field, owner key and (unpadded) tail. */
function layout(message: Buffer, owner: string, lengthField = message.length): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(lengthField);
  return Buffer.concat([randomBytes(16), length, message, Buffer.from(owner)]);
}

function padded(plain: Buffer): Buffer {
  const count = 32 - (plain.length % 32);
  return Buffer.concat([plain, Buffer.alloc(count, count)]);
}

function problemOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CallbackCryptoError);
    return { code: (error as CallbackCryptoError).code, message: (error as Error).message };
  }
  throw new Error("expected a CallbackCryptoError");
}

describe("DingTalk's published vector", () => {
  it("verifies its signature and decrypts it to the check_url event", () => {
    const { msgSignature, timestamp, nonce, encrypt } = PUBLISHED;
    expect(callbackSignature(PUBLISHED.token, timestamp, nonce, encrypt)).toBe(msgSignature);
    expect(signatureMatches(published, msgSignature, timestamp, nonce, encrypt)).toBe(true);
    expect(signatureMatches(published, msgSignature.toUpperCase(), timestamp, nonce, encrypt)).toBe(true);
    expect(decryptMessage(published, encrypt)).toBe(PUBLISHED.message);
  });

  it("is reproduced byte for byte by encryptMessage given the same random prefix", () => {
    expect(encryptMessage(published, PUBLISHED.message, Buffer.from(PUBLISHED.random))).toBe(
      PUBLISHED.encrypt,
    );
  });

  it("accepts an EncodingAESKey with non-canonical trailing bits (DingTalk's own example has them)", () => {
    expect(published.key).toHaveLength(32);
  });
});

describe("signature", () => {
  it("is SHA-1 of the four values sorted and joined, and any change breaks it", () => {
    const expected = createHash("sha1")
      .update(["1700000000000", "nonce", "tok", "ZW5j"].sort().join(""))
      .digest("hex");
    expect(callbackSignature("tok", "1700000000000", "nonce", "ZW5j")).toBe(expected);
    const k = callbackKeys("tok", KEYS.aesKey, "a");
    expect(signatureMatches(k, expected, "1700000000000", "nonce", "ZW5j")).toBe(true);
    expect(signatureMatches(k, expected, "1700000000001", "nonce", "ZW5j")).toBe(false);
    expect(signatureMatches(k, expected, "1700000000000", "nonce", "ZW5k")).toBe(false);
    expect(signatureMatches(k, expected.slice(0, 39), "1700000000000", "nonce", "ZW5j")).toBe(false);
    expect(signatureMatches(k, `${expected}0`, "1700000000000", "nonce", "ZW5j")).toBe(false);
    expect(signatureMatches(k, "", "1700000000000", "nonce", "ZW5j")).toBe(false);
    expect(signatureMatches(k, "é".repeat(40), "1700000000000", "nonce", "ZW5j")).toBe(false);
  });
});

describe("round trip", () => {
  it("decrypts what it encrypts for every padding length 1..32 and non-ASCII text", () => {
    const pads = new Set<number>();
    for (let n = 0; n < 64; n++) {
      const message = `${"文".repeat(n % 5)}${"x".repeat(n)}`;
      const encrypt = encryptMessage(keys, message);
      pads.add(32 - ((20 + Buffer.byteLength(message) + KEYS.appKey.length) % 32));
      expect(Buffer.from(encrypt, "base64").length % 32).toBe(0);
      expect(decryptMessage(keys, encrypt)).toBe(message);
    }
    expect(pads.size).toBe(32);
  });

  it("builds the encrypted success reply: a valid signature over fresh values, millisecond timeStamp", () => {
    const reply = buildReply(keys, { now: 1_795_497_600_123 });
    expect(Object.keys(reply).sort()).toEqual(["encrypt", "msg_signature", "nonce", "timeStamp"]);
    expect(reply.timeStamp).toBe("1795497600123");
    expect(reply.nonce).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(signatureMatches(keys, reply.msg_signature, reply.timeStamp, reply.nonce, reply.encrypt)).toBe(
      true,
    );
    expect(decryptMessage(keys, reply.encrypt)).toBe("success");
    expect(buildReply(keys).encrypt).not.toBe(buildReply(keys).encrypt);
    expect(randomNonce()).not.toBe(randomNonce());
  });
});

describe("malformed input is a CallbackCryptoError naming the problem", () => {
  it.each([
    ["too short (42)", KEYS.aesKey.slice(0, 42), /43 base64 characters \(got 42/],
    ["too long (44)", `${KEYS.aesKey}=`, /got 44/],
    ["empty", "", /got 0/],
    ["outside the alphabet", `${KEYS.aesKey.slice(0, 42)}-`, /outside A-Z a-z 0-9/],
  ])("EncodingAESKey %s", (_, aesKey, message) => {
    const problem = problemOf(() => callbackKeys("t", aesKey, "o"));
    expect(problem.code).toBe("InvalidAesKey");
    expect(problem.message).toMatch(message);
    if (aesKey.length > 0) expect(problem.message).not.toContain(aesKey.slice(0, 20));
  });

  it.each([
    ["empty", ""],
    ["characters outside base64", "!!!!AAAA"],
    ["URL-safe alphabet", encryptMessage(keys, "x").replace(/[+/]/g, "-").replace(/^./, "_")],
    ["missing padding", "QUJDRA"],
    ["a stray fifth character", "QUJDR"],
    ["whitespace inside", `${PUBLISHED.encrypt.slice(0, 8)}\n${PUBLISHED.encrypt.slice(8)}`],
    ["padding in the middle", "QQ==QUJD"],
  ])("bad base64: %s", (_, encrypt) => {
    expect(problemOf(() => decryptMessage(keys, encrypt)).code).toBe("InvalidBase64");
  });

  it.each([16, 48, 33, 1])("wrong length: %i bytes", (bytes) => {
    const problem = problemOf(() => decryptMessage(keys, randomBytes(bytes).toString("base64")));
    expect(problem.code).toBe("InvalidLength");
    expect(problem.message).toContain(`${bytes} bytes`);
  });

  it.each([
    ["pad byte 0", (p: Buffer) => Buffer.concat([p.subarray(0, 31), Buffer.from([0])])],
    ["pad byte 33", (p: Buffer) => Buffer.concat([p.subarray(0, 31), Buffer.from([33])])],
    ["pad byte 255", (p: Buffer) => Buffer.concat([p.subarray(0, 31), Buffer.from([255])])],
    [
      "inconsistent pad bytes",
      (p: Buffer) => {
        const copy = Buffer.from(p);
        copy[copy.length - 3] = 7;
        copy[copy.length - 1] = 5;
        copy[copy.length - 2] = 5;
        copy[copy.length - 4] = 5;
        copy[copy.length - 5] = 5;
        return copy;
      },
    ],
  ])("bad padding: %s", (_, breakIt) => {
    const plain = padded(layout(Buffer.from("{}"), KEYS.appKey));
    const encrypt = rawEncrypt(KEYS.aesKey, breakIt(plain));
    expect(problemOf(() => decryptMessage(keys, encrypt)).code).toBe("InvalidPadding");
  });

  it("random ciphertext of a valid length never decrypts (a random last byte is rarely valid padding)", () => {
    for (let i = 0; i < 200; i++) {
      const encrypt = randomBytes(32 * (1 + (i % 4))).toString("base64");
      expect(() => decryptMessage(keys, encrypt)).toThrow(CallbackCryptoError);
    }
  });

  it("a length field past the end", () => {
    const encrypt = rawEncrypt(KEYS.aesKey, padded(layout(Buffer.from("{}"), KEYS.appKey, 1000)));
    const problem = problemOf(() => decryptMessage(keys, encrypt));
    expect(problem.code).toBe("InvalidLengthField");
    expect(problem.message).toMatch(/says 1000 bytes/);
  });

  it("a length field of 2^32-1 (no integer overflow)", () => {
    const encrypt = rawEncrypt(KEYS.aesKey, padded(layout(Buffer.from("{}"), KEYS.appKey, 0xffffffff)));
    expect(problemOf(() => decryptMessage(keys, encrypt)).code).toBe("InvalidLengthField");
  });

  it("a plaintext shorter than the 20-byte header", () => {
    const encrypt = rawEncrypt(KEYS.aesKey, padded(randomBytes(10)));
    const problem = problemOf(() => decryptMessage(keys, encrypt));
    expect(problem.code).toBe("InvalidLengthField");
    expect(problem.message).toMatch(/shorter than the 20-byte header/);
  });

  it.each([
    ["another app", "other-app-key"],
    ["a prefix of ours", KEYS.appKey.slice(0, -1)],
    ["ours plus a byte", `${KEYS.appKey}x`],
    ["no owner at all", ""],
  ])("wrong owner key: %s", (_, owner) => {
    const other = callbackKeys(KEYS.token, KEYS.aesKey, owner);
    const problem = problemOf(() => decryptMessage(keys, encryptMessage(other, "{}")));
    expect(problem.code).toBe("WrongOwnerKey");
    expect(problem.message).not.toContain(KEYS.appKey);
  });

  it("a message that is not UTF-8", () => {
    const encrypt = rawEncrypt(KEYS.aesKey, padded(layout(Buffer.from([0xff, 0xfe, 0x80]), KEYS.appKey)));
    expect(problemOf(() => decryptMessage(keys, encrypt)).code).toBe("InvalidUtf8");
  });

  it("a message for another AES key fails as padding or owner, never as a crash", () => {
    const other = callbackKeys(KEYS.token, "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj", KEYS.appKey);
    for (let i = 0; i < 50; i++) {
      expect(() => decryptMessage(keys, encryptMessage(other, `{"n":${i}}`))).toThrow(CallbackCryptoError);
    }
  });

  it("no error message carries the token or the AES key", () => {
    const messages: string[] = [];
    for (const run of [
      () => callbackKeys(KEYS.token, KEYS.aesKey.slice(1), KEYS.appKey),
      () => decryptMessage(keys, "%%%"),
      () => decryptMessage(keys, randomBytes(64).toString("base64")),
      () => decryptMessage(keys, encryptMessage(callbackKeys(KEYS.token, KEYS.aesKey, "x"), "{}")),
    ]) {
      try {
        run();
      } catch (error) {
        messages.push((error as Error).message);
      }
    }
    expect(messages).toHaveLength(4);
    for (const message of messages) {
      expect(message).not.toContain(KEYS.token);
      expect(message).not.toContain(KEYS.aesKey.slice(1, 20));
    }
  });
});
