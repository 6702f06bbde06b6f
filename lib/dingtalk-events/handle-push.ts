/**
 * DingTalk's encrypted HTTP push → an archive job on the queue, answered within DingTalk's ~1.5 s:
 *
 *   size (413) ─► query params (401) ─► body {"encrypt"} (400) ─► timestamp window (401) ─► signature (401)
 *   ─► decrypt + owner key (400 / 401) ─► classify: check_url | FILE create/update → enqueue once | ignore
 *   ─► 200 with the encrypted "success"
 *
 * Nothing is archived here: the archive function's SQS worker does that. A failure to queue answers 5xx,
 * so DingTalk retries (after 10 s and 30 s) and the idempotency record makes the retry queue at most once.
 */
import type { Context } from "aws-lambda";
import { AppError } from "../errors";
import { type HttpEvent, type HttpResult, jsonResponse, parseJsonBody, readBody } from "../http/api-gateway";
import { errorResponse } from "../http/errors";
import type { Idempotent } from "../idempotency";
import type { ArchiveRequest } from "../jobs/archive-job";
import { logger } from "../logging";
import { countMetric } from "../metrics";
import { detectTrigger } from "../triggers/detect";
import {
  buildReply,
  CallbackCryptoError,
  type CallbackKeys,
  decryptMessage,
  signatureMatches,
} from "./crypto";
import { classifyEvent } from "./events";

export interface PushDeps {
  keys: CallbackKeys;
  /** Queue a file's archive job at most once per event key; answers the job id. */
  enqueueOnce: Idempotent<ArchiveRequest, { jobId: string }>;
  /** How far a push's timestamp may be from `now()`, either way. */
  maxSkewMs: number;
  maxBodyBytes: number;
  now?: () => number;
}

/** The function's entry point: only API Gateway's HTTP event is accepted; every failure uses the error contract. */
export async function handleDingTalkEvent(
  event: unknown,
  context: Context,
  getDeps: () => Promise<PushDeps>,
): Promise<HttpResult> {
  const trigger = detectTrigger(event);
  if (trigger.kind !== "http") {
    const refused = new AppError(
      400,
      "UnsupportedTrigger",
      "dingtalk-events only takes DingTalk's HTTP push",
    );
    return errorResponse(refused, context.awsRequestId);
  }
  // The refusal line errorResponse logs then says who sent the push.
  logger.appendKeys({ sourceIp: trigger.event.requestContext.http.sourceIp });
  try {
    const deps = await getDeps();
    deps.enqueueOnce.registerLambdaContext(context);
    return await handlePush(trigger.event, deps);
  } catch (error) {
    return errorResponse(error, context.awsRequestId);
  } finally {
    logger.removeKeys(["sourceIp"]);
  }
}

export async function handlePush(event: HttpEvent, deps: PushDeps): Promise<HttpResult> {
  const now = deps.now?.() ?? Date.now();
  const raw = readBody(event, deps.maxBodyBytes);
  const { signature, timestamp, nonce } = signedQuery(event.queryStringParameters ?? {});
  const encrypt = encryptField(parseJsonBody(raw));
  checkTimestamp(timestamp, now, deps.maxSkewMs);
  if (!signatureMatches(deps.keys, signature, timestamp, nonce, encrypt)) {
    throw new AppError(
      401,
      "InvalidSignature",
      "msg_signature does not match the token, timestamp, nonce and body",
    );
  }
  countMetric("PushesReceived");
  const pushed = classifyEvent(open(deps.keys, encrypt));
  switch (pushed.kind) {
    case "check_url":
      logger.info("DingTalk callback URL check answered");
      break;
    case "archive": {
      const { jobId } = await deps.enqueueOnce({ key: pushed.key, request: pushed.job });
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
  return jsonResponse(200, buildReply(deps.keys, { now }));
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
