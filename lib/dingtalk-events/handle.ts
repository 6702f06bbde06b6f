import type { ArchiveRequest } from "../archive/request";
import { AppError } from "../errors";
import { type HttpEvent, type HttpResult, jsonResponse, parseJsonBody, readBody } from "../http/api-gateway";
import { errorResponse } from "../http/errors";
import type { Idempotent } from "../idempotency";
import { logger } from "../logging";
import { countMetric } from "../metrics";
import { triggerHandler } from "../triggers/dispatch";
import { unionIdRefusal } from "../union-ids";
import {
  buildReply,
  CallbackCryptoError,
  type CallbackKeys,
  decryptMessage,
  signatureMatches,
} from "./crypto";
import { classifyEvent } from "./events";

/** The callback keys as a warm function holds them: read through the secrets cache, so they can rotate. */
export interface CallbackKeysReader {
  get(): Promise<CallbackKeys>;
  /** Read from the store now (a push failed against the cached keys). */
  refresh(): Promise<CallbackKeys>;
}

/** The one answer to a push that cannot be verified or decrypted, whatever the reason. */
export const PUSH_REFUSED = {
  status: 401,
  code: "InvalidPush",
  message: "The push could not be verified",
} as const;

export interface PushDeps {
  keys: CallbackKeys | CallbackKeysReader;
  /** Queue a file's archive job at most once per event key; answers the job id. */
  enqueueOnce: Idempotent<ArchiveRequest, { jobId: string }>;
  /** How far a push's timestamp may be from `now()`, either way. */
  maxSkewMs: number;
  maxBodyBytes: number;
  /** ALLOWED_UNION_IDS: a push names who changed the file; the job acts as them only if they are listed. */
  allowedUnionIds: readonly string[];
  now?: () => number;
  /** Only pushes for these spaces become jobs; undefined = every push (see DingTalkEventsConfig). */
  archiveSpaces?: ReadonlySet<string> | undefined;
}

/** The function's entry point: only API Gateway's HTTP event is taken; every failure uses the error contract. */
export const handleDingTalkEvent = triggerHandler(
  "dingtalk-events",
  (context, getDeps: () => Promise<PushDeps>) => ({
    http: async (http: HttpEvent) => {
      // The refusal line errorResponse logs then says who sent the push.
      logger.appendKeys({ sourceIp: http.requestContext.http.sourceIp });
      try {
        const deps = await getDeps();
        deps.enqueueOnce.registerLambdaContext(context);
        return await handlePush(http, deps);
      } catch (error) {
        return errorResponse(error, context.awsRequestId);
      } finally {
        logger.removeKeys(["sourceIp"]);
      }
    },
  }),
);

export async function handlePush(event: HttpEvent, deps: PushDeps): Promise<HttpResult> {
  const now = deps.now?.() ?? Date.now();
  const raw = readBody(event, deps.maxBodyBytes);
  const reader = keysReader(deps.keys);
  let keys = await reader.get();
  let plaintext: string;
  try {
    plaintext = verifyAndOpen(event, raw, keys, now, deps.maxSkewMs);
  } catch (first) {
    // The keys may have been rotated since they were read: read them again (rate limited) and retry once.
    const fresh = isAuthFailure(first) ? await reader.refresh() : keys;
    try {
      if (fresh === keys || sameKeys(fresh, keys)) throw first;
      plaintext = verifyAndOpen(event, raw, fresh, now, deps.maxSkewMs);
      keys = fresh;
    } catch (error) {
      throw refused(error);
    }
  }
  countMetric("PushesReceived");
  const pushed = classifyEvent(plaintext);
  switch (pushed.kind) {
    case "check_url":
      logger.info("DingTalk callback URL check answered");
      break;
    case "archive": {
      if (deps.archiveSpaces && !deps.archiveSpaces.has(pushed.job.spaceId)) {
        logger.info("DingTalk event acknowledged and ignored", {
          eventType: pushed.eventType,
          spaceId: pushed.job.spaceId,
          reason: "space not in ARCHIVE_SOURCES (set DINGTALK_EVENTS_ARCHIVE_ALL=true to archive every push)",
        });
        break;
      }
      const { jobId } = await deps.enqueueOnce({
        key: pushed.key,
        request: asAllowedOperator(pushed.job, deps.allowedUnionIds),
      });
      const { spaceId, dentryId } = pushed.job;
      logger.info("archive job queued", {
        eventType: pushed.eventType,
        eventKey: pushed.key,
        jobId,
        spaceId,
        dentryId,
      });
      break;
    }
    case "ignored":
      logger.info("DingTalk event acknowledged and ignored", {
        eventType: pushed.eventType,
        reason: pushed.reason,
      });
      break;
    case "invalid":
      // Authentic, so a retry would carry the same content: acknowledge, and leave the alarm to this line.
      logger.error("DingTalk event unusable; acknowledged", {
        eventType: pushed.eventType,
        problem: pushed.problem,
      });
      break;
  }
  return jsonResponse(200, buildReply(keys, { now }));
}

/**
 * The archive job for a pushed event. DingTalk names the user who changed the file: the job acts as that user
 * only when ALLOWED_UNION_IDS lists them (the archive worker refuses anyone else), otherwise as the default
 * operator, DINGTALK_UNION_ID, so the file is still archived.
 */
function asAllowedOperator(job: ArchiveRequest, allowed: readonly string[]): ArchiveRequest {
  if (!unionIdRefusal(job.unionId, allowed)) return job;
  const { unionId: _actor, ...asOperator } = job;
  return asOperator;
}

/** Every check before the content is read; throws an AppError naming the failed check (logged, never sent). */
function verifyAndOpen(event: HttpEvent, raw: string, keys: CallbackKeys, now: number, maxSkewMs: number) {
  const { signature, timestamp, nonce } = signedQuery(event.queryStringParameters ?? {});
  const encrypt = encryptField(parseJsonBody(raw));
  checkTimestamp(timestamp, now, maxSkewMs);
  if (!signatureMatches(keys, signature, timestamp, nonce, encrypt)) {
    throw new AppError(
      401,
      "InvalidSignature",
      "msg_signature does not match the token, timestamp, nonce and body",
    );
  }
  return open(keys, encrypt);
}

/** Failures a rotated token or AES key would explain (not a malformed request or a stale timestamp). */
function isAuthFailure(error: unknown): boolean {
  return error instanceof AppError && (error.code === "InvalidSignature" || error.status === 400);
}

function sameKeys(a: CallbackKeys, b: CallbackKeys): boolean {
  return a.token === b.token && a.key.equals(b.key) && a.ownerKey === b.ownerKey;
}

/** Log why a push was refused, answer the same thing whatever it was. */
function refused(error: unknown): unknown {
  if (!(error instanceof AppError)) return error; // our own failure (reading a secret): a 5xx, not the sender's
  logger.warn("DingTalk push refused", { reason: error.code, problem: error.message });
  return new AppError(PUSH_REFUSED.status, PUSH_REFUSED.code, PUSH_REFUSED.message);
}

function keysReader(keys: CallbackKeys | CallbackKeysReader): CallbackKeysReader {
  if ("get" in keys) return keys;
  return { get: async () => keys, refresh: async () => keys };
}

/** DingTalk's query names; `signature` / `timeStamp` are the spellings its older callbacks used. */
function signedQuery(query: Record<string, string | undefined>) {
  const signature = query.msg_signature ?? query.signature;
  const timestamp = query.timestamp ?? query.timeStamp;
  const nonce = query.nonce;
  const missing = [
    signature ? undefined : "msg_signature",
    timestamp ? undefined : "timestamp",
    nonce ? undefined : "nonce",
  ].filter(Boolean);
  if (!signature || !timestamp || !nonce) {
    throw new AppError(401, "InvalidSignature", `Missing query parameter(s): ${missing.join(", ")}`);
  }
  return { signature, timestamp, nonce };
}

function encryptField(body: unknown): string {
  const encrypt = (body as { encrypt?: unknown } | null)?.encrypt;
  if (typeof encrypt !== "string" || encrypt === "") {
    throw new AppError(400, "InvalidRequest", 'Request body must be {"encrypt": "<base64>"}', {
      details: { fields: [{ field: "encrypt", problem: "must be a non-empty string" }] },
    });
  }
  return encrypt;
}

/** DingTalk sends milliseconds; 10-digit values are taken as seconds so a hand-made push also works. */
function checkTimestamp(timestamp: string, now: number, maxSkewMs: number): void {
  if (!/^\d{1,16}$/.test(timestamp)) {
    throw new AppError(401, "InvalidTimestamp", "timestamp must be Unix time in milliseconds");
  }
  const value = Number(timestamp);
  const at = value < 1e11 ? value * 1000 : value;
  const skew = Math.abs(now - at);
  if (skew > maxSkewMs) {
    throw new AppError(
      401,
      "StaleTimestamp",
      `timestamp is ${Math.round(skew / 1000)} s away from now; the limit is ${maxSkewMs / 1000} s`,
    );
  }
}

/** Decrypt; a message for another app is an authentication failure (401), anything else unreadable a 400. */
function open(keys: CallbackKeys, encrypt: string): string {
  try {
    return decryptMessage(keys, encrypt);
  } catch (error) {
    if (!(error instanceof CallbackCryptoError)) throw error;
    const status = error.code === "WrongOwnerKey" ? 401 : 400;
    throw new AppError(status, error.code, `Cannot decrypt the push: ${error.message}`);
  }
}
