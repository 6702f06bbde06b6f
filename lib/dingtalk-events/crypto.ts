/**
 * DingTalk's callback crypto for HTTP push (the scheme of open-dingtalk/DingTalk-Callback-Crypto):
 * - signature = hex SHA-1 of the sorted [token, timestamp, nonce, encrypt] joined with no separator;
 * - key = base64(EncodingAESKey + "=") (32 bytes), AES-256-CBC, IV = the key's first 16 bytes;
 * - PKCS#7 padding to a 32-byte block (not AES's 16), so Node's auto padding is off and we unpad ourselves;
 * - plaintext = 16 random bytes + 4-byte big-endian length + message + owner key (our AppKey).
 * Every malformed input is a CallbackCryptoError naming the problem; no message carries a key or token.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";

export type CallbackCryptoProblem =
  | "InvalidAesKey"
  | "InvalidBase64"
  | "InvalidLength"
  | "InvalidPadding"
  | "InvalidLengthField"
  | "WrongOwnerKey"
  | "InvalidUtf8";

export class CallbackCryptoError extends Error {
  readonly code: CallbackCryptoProblem;
  constructor(code: CallbackCryptoProblem, message: string) {
    super(message);
    this.name = "CallbackCryptoError";
    this.code = code;
  }
}

/** The three values DingTalk's developer console shows for one callback subscription, ready to use. */
export interface CallbackKeys {
  token: string;
  /** The 32-byte AES key decoded from the EncodingAESKey. */
  key: Buffer;
  /** Who the messages are for: the AppKey for an app's event subscription. */
  ownerKey: string;
}

/** DingTalk's padding block: 32 bytes, twice AES's. */
export const PAD_BLOCK = 32;
const RANDOM_BYTES = 16;
const HEADER_BYTES = RANDOM_BYTES + 4;
const ENCODING_AES_KEY = /^[A-Za-z0-9+/]{43}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Validate and decode the console's values; the EncodingAESKey must be exactly 43 base64 characters. */
export function callbackKeys(token: string, encodingAesKey: string, ownerKey: string): CallbackKeys {
  if (!ENCODING_AES_KEY.test(encodingAesKey)) {
    throw new CallbackCryptoError(
      "InvalidAesKey",
      `EncodingAESKey must be 43 base64 characters (got ${encodingAesKey.length} characters${
        encodingAesKey.length === 43 ? " with some outside A-Z a-z 0-9 + /" : ""
      })`,
    );
  }
  // 43 characters + "=" is 44 base64 characters: always 32 bytes. Non-canonical trailing bits are accepted
  // because DingTalk's own published keys have them (Node, Java and Python all ignore them).
  return { token, key: Buffer.from(`${encodingAesKey}=`, "base64"), ownerKey };
}

/** The hex SHA-1 DingTalk sends as `msg_signature` (and expects in our reply). */
export function callbackSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  // Default sort compares UTF-16 code units, as Java's Arrays.sort on DingTalk's side does.
  return createHash("sha1").update([token, timestamp, nonce, encrypt].sort().join(""), "utf8").digest("hex");
}

/** Compare a received signature with the expected one in constant time (any case of hex accepted). */
export function signatureMatches(
  keys: CallbackKeys,
  given: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
) {
  const expected = Buffer.from(callbackSignature(keys.token, timestamp, nonce, encrypt), "latin1");
  const actual = Buffer.from(given.toLowerCase(), "latin1");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Encrypt `message` for DingTalk's format (the random prefix may be fixed for tests against known vectors). */
export function encryptMessage(
  keys: CallbackKeys,
  message: string,
  random: Buffer = randomBytes(RANDOM_BYTES),
) {
  if (random.length !== RANDOM_BYTES) throw new RangeError(`the random prefix must be ${RANDOM_BYTES} bytes`);
  const body = Buffer.from(message, "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([random, length, body, Buffer.from(keys.ownerKey, "utf8")]);
  const cipher = createCipheriv("aes-256-cbc", keys.key, keys.key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(pad(plain)), cipher.final()]).toString("base64");
}

/** Decrypt DingTalk's `encrypt` string and check it is meant for our owner key; answers the message. */
export function decryptMessage(keys: CallbackKeys, encrypt: string): string {
  if (encrypt.length === 0 || !BASE64.test(encrypt)) {
    throw new CallbackCryptoError("InvalidBase64", "encrypt is not canonical base64");
  }
  const sealed = Buffer.from(encrypt, "base64");
  if (sealed.length % PAD_BLOCK !== 0) {
    throw new CallbackCryptoError(
      "InvalidLength",
      `encrypt decodes to ${sealed.length} bytes; expected a non-zero multiple of ${PAD_BLOCK}`,
    );
  }
  const decipher = createDecipheriv("aes-256-cbc", keys.key, keys.key.subarray(0, 16)).setAutoPadding(false);
  const plain = unpad(Buffer.concat([decipher.update(sealed), decipher.final()]));
  if (plain.length < HEADER_BYTES) {
    throw new CallbackCryptoError(
      "InvalidLengthField",
      `decrypted text is ${plain.length} bytes, shorter than the ${HEADER_BYTES}-byte header`,
    );
  }
  const length = plain.readUInt32BE(RANDOM_BYTES);
  if (length > plain.length - HEADER_BYTES) {
    throw new CallbackCryptoError(
      "InvalidLengthField",
      `length field says ${length} bytes but only ${plain.length - HEADER_BYTES} follow the header`,
    );
  }
  const owner = plain.subarray(HEADER_BYTES + length);
  const ours = Buffer.from(keys.ownerKey, "utf8");
  if (owner.length !== ours.length || !timingSafeEqual(owner, ours)) {
    throw new CallbackCryptoError("WrongOwnerKey", "the message is addressed to another owner key (AppKey)");
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(
      plain.subarray(HEADER_BYTES, HEADER_BYTES + length),
    );
  } catch {
    throw new CallbackCryptoError("InvalidUtf8", "the decrypted message is not valid UTF-8");
  }
}

/** What our endpoint answers DingTalk: the encrypted `success` with its own signature. */
export interface CallbackReply {
  msg_signature: string;
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

const NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A 16-character alphanumeric nonce, as DingTalk's reference libraries make them. */
export function randomNonce(): string {
  return Array.from(randomBytes(16), (byte) => NONCE_ALPHABET[byte % NONCE_ALPHABET.length]).join("");
}

/** The encrypted acknowledgement; timeStamp in milliseconds, as DingTalk's Java reference sends it. */
export function buildReply(
  keys: CallbackKeys,
  options: { message?: string; now?: number; nonce?: string } = {},
): CallbackReply {
  const encrypt = encryptMessage(keys, options.message ?? "success");
  const timeStamp = String(options.now ?? Date.now());
  const nonce = options.nonce ?? randomNonce();
  return {
    msg_signature: callbackSignature(keys.token, timeStamp, nonce, encrypt),
    timeStamp,
    nonce,
    encrypt,
  };
}

function pad(plain: Buffer): Buffer {
  const count = PAD_BLOCK - (plain.length % PAD_BLOCK);
  return Buffer.concat([plain, Buffer.alloc(count, count)]);
}

// Not constant time, and need not be: the signature is checked before anything is decrypted, so no
// unauthenticated sender can use the padding answer as an oracle.
function unpad(padded: Buffer): Buffer {
  const count = padded.at(-1) ?? 0;
  if (count < 1 || count > PAD_BLOCK || count > padded.length) {
    throw new CallbackCryptoError("InvalidPadding", `padding byte ${count} is outside 1..${PAD_BLOCK}`);
  }
  for (let i = padded.length - count; i < padded.length; i++) {
    if (padded[i] !== count) {
      throw new CallbackCryptoError("InvalidPadding", `padding is not ${count} bytes of value ${count}`);
    }
  }
  return padded.subarray(0, padded.length - count);
}
