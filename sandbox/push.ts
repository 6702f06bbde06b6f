/**
 * Act as DingTalk pushing an event over HTTP (for tests, the local stack and chaos tools):
 *
 *   const push = buildPush(storageEvent("storage_dentry_create", { spaceId, dentryId }), SANDBOX_EVENT_KEYS);
 *   await pushEvent("http://127.0.0.1:3000/webhooks/dingtalk-events", event, SANDBOX_EVENT_KEYS);
 *
 * Written apart from lib/dingtalk-events/crypto.ts on purpose, so the tests prove the two interoperate:
 * CBC is chained here by hand over single-block AES-ECB, and padding is laid down before the plaintext.
 */
import {
  type Cipheriv,
  createCipheriv,
  createDecipheriv,
  createHash,
  type Decipheriv,
  randomBytes,
} from "node:crypto";

export interface PushKeys {
  /** The callback token from DingTalk's developer console. */
  token: string;
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  /** The owner key written into every message: the AppKey of the app that subscribed. */
  appKey: string;
}

export interface PushOptions extends PushKeys {
  /** Unix milliseconds as DingTalk sends them; default now. */
  timestamp?: string | number;
  nonce?: string;
  /** The 16-byte random prefix; fixed only to reproduce a published vector. */
  random?: Buffer;
}

export interface DingTalkPush {
  query: { msg_signature: string; timestamp: string; nonce: string };
  body: { encrypt: string };
}

/** Callback credentials of the local stack, like LocalStack's test/test (never valid on real DingTalk). */
export const SANDBOX_EVENT_KEYS: PushKeys = {
  token: "sandbox-event-token",
  aesKey: "sandbox0Encoding0AES0Key0for0local0pushes00",
  appKey: "sandbox",
};

const BLOCK = 16;
const DINGTALK_PAD = 32;

/** Encrypt and sign `event` (an object is sent as JSON, a string as is) as DingTalk would push it. */
export function buildPush(event: unknown, options: PushOptions): DingTalkPush {
  const message = typeof event === "string" ? event : JSON.stringify(event);
  const random = options.random ?? randomBytes(BLOCK);
  const body = Buffer.from(message, "utf8");
  const owner = Buffer.from(options.appKey, "utf8");
  const size = BLOCK + 4 + body.length + owner.length;
  const padTo = Math.ceil((size + 1) / DINGTALK_PAD) * DINGTALK_PAD;
  // Fill the whole buffer with the pad value first, then write the content over its front.
  const plain = Buffer.alloc(padTo, padTo - size);
  random.copy(plain, 0);
  new DataView(plain.buffer, plain.byteOffset).setUint32(BLOCK, body.length, false);
  body.copy(plain, BLOCK + 4);
  owner.copy(plain, BLOCK + 4 + body.length);
  const key = aesKeyOf(options.aesKey);
  const encrypt = cbc(key, plain, "encrypt").toString("base64");
  const timestamp = String(options.timestamp ?? Date.now());
  const nonce = options.nonce ?? randomBytes(6).toString("base64url");
  return {
    query: { msg_signature: sign(options.token, timestamp, nonce, encrypt), timestamp, nonce },
    body: { encrypt },
  };
}

/** POST the push to `url` (query signed, body encrypted); answers the status and the parsed JSON reply. */
export async function pushEvent(
  url: string,
  event: unknown,
  options: PushOptions,
): Promise<{ status: number; body: unknown }> {
  const push = buildPush(event, options);
  const target = new URL(url);
  for (const [name, value] of Object.entries(push.query)) target.searchParams.set(name, value);
  const answer = await fetch(target, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(push.body),
  });
  const text = await answer.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: hand the text back as it came.
  }
  return { status: answer.status, body };
}

/** Check the endpoint's reply as DingTalk does: its signature, then decrypt it; answers the message ("success"). */
export function openReply(reply: unknown, keys: PushKeys): string {
  const r = reply as Partial<Record<"msg_signature" | "timeStamp" | "nonce" | "encrypt", unknown>>;
  const fields = [r.msg_signature, r.timeStamp, r.nonce, r.encrypt];
  if (!fields.every((f) => typeof f === "string")) {
    throw new Error("reply must have string msg_signature, timeStamp, nonce and encrypt");
  }
  const [signature, timeStamp, nonce, encrypt] = fields as string[];
  if (sign(keys.token, timeStamp as string, nonce as string, encrypt as string) !== signature) {
    throw new Error("reply signature does not match");
  }
  const plain = cbc(aesKeyOf(keys.aesKey), Buffer.from(encrypt as string, "base64"), "decrypt");
  const padding = plain[plain.length - 1] as number;
  const unpadded = plain.subarray(0, plain.length - padding);
  const length = new DataView(unpadded.buffer, unpadded.byteOffset).getUint32(BLOCK, false);
  const owner = unpadded.subarray(BLOCK + 4 + length).toString("utf8");
  if (owner !== keys.appKey) throw new Error(`reply is addressed to owner key ${JSON.stringify(owner)}`);
  return unpadded.subarray(BLOCK + 4, BLOCK + 4 + length).toString("utf8");
}

/** A storage event as DingTalk's HTTP push carries it (flat, `EventType` first), with fresh ids. */
export function storageEvent(
  eventType: "storage_dentry_create" | "storage_dentry_update" | "storage_dentry_delete",
  fields: { spaceId: string; dentryId: string; unionId?: string; type?: "FILE" | "FOLDER"; eventId?: string },
): Record<string, unknown> {
  const eventId = fields.eventId ?? randomBytes(16).toString("hex");
  return {
    EventType: eventType,
    EventTime: Date.now(),
    CorpId: "ding-sandbox-corp",
    BizId: eventId.slice(0, 12),
    eventId,
    spaceId: fields.spaceId,
    dentryId: fields.dentryId,
    eventScope: "SPACE",
    extension: "bin",
    unionId: fields.unionId ?? "sandbox-union",
    eventScopeId: fields.spaceId,
    type: fields.type ?? "FILE",
  };
}

function sign(token: string, timestamp: string, nonce: string, encrypt: string): string {
  const sorted = [token, timestamp, nonce, encrypt].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha1").update(sorted.join("")).digest("hex");
}

function aesKeyOf(encodingAesKey: string): Buffer {
  const key = Buffer.from(`${encodingAesKey}=`, "base64");
  if (encodingAesKey.length !== 43 || key.length !== 32)
    throw new Error("aesKey must be 43 base64 characters");
  return key;
}

/** AES-256-CBC with IV = key[0..16), chained by hand over one-block ECB calls (no padding of its own). */
function cbc(key: Buffer, input: Buffer, direction: "encrypt" | "decrypt"): Buffer {
  const output = Buffer.alloc(input.length);
  let previous = key.subarray(0, BLOCK);
  for (let offset = 0; offset < input.length; offset += BLOCK) {
    const block = input.subarray(offset, offset + BLOCK);
    if (direction === "encrypt") {
      const mixed = Buffer.from(block.map((byte, i) => byte ^ (previous[i] as number)));
      const sealed = ecb(createCipheriv("aes-256-ecb", key, null), mixed);
      sealed.copy(output, offset);
      previous = sealed;
    } else {
      const opened = ecb(createDecipheriv("aes-256-ecb", key, null), block);
      for (let i = 0; i < BLOCK; i++) output[offset + i] = (opened[i] as number) ^ (previous[i] as number);
      previous = block;
    }
  }
  return output;
}

function ecb(cipher: Cipheriv | Decipheriv, block: Buffer): Buffer {
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}
