/**
 * The one error type of the DingTalk client, and the functions that turn an HTTP answer or a transport
 * failure into it. Nothing here ever carries the access token, the app secret or a signed URL/header:
 * messages are built from DingTalk's code/message (sanitised) and our own words, and `cause` is never
 * a ky error (ky errors hold the Request, whose headers hold the token).
 */
import { CLIENT_CODES, classifyDingTalkFailure } from "./retry";

/** The calls the client makes; named in every error and log line. */
export type DingTalkApi =
  | "getAccessToken"
  | "sendFileLink"
  | "getFileDownloadInfo"
  | "listDentries"
  | "listAllDentries"
  | "getDentry"
  | "getSpace";

/** DingTalk unarchives a file by itself; ask again after a few minutes. */
export const FILE_ARCHIVED_RETRY_AFTER_MS = 5 * 60_000;
/** The ban lasts 5 minutes; `wait` (minutes, *inferred*) overrides this when present. */
export const IP_BAN_RETRY_AFTER_MS = 5 * 60_000;

export interface DingTalkErrorInit {
  api: DingTalkApi;
  /** HTTP status; undefined when no answer came (network error, timeout). */
  status: number | undefined;
  code: string;
  /** DingTalk's own message (sanitised), or our description of what went wrong. */
  detail: string;
  requestId?: string | undefined;
  retryAfterMs?: number | undefined;
  /** For InvalidResponse: which fields were wrong (paths and problems, never values). */
  issues?: readonly ResponseIssue[] | undefined;
  /** The connection failed before the request was written: DingTalk certainly did nothing. */
  requestNotSent?: boolean | undefined;
}

export interface ResponseIssue {
  path: string;
  message: string;
}

export class DingTalkError extends Error {
  override readonly name = "DingTalkError";
  readonly api: DingTalkApi;
  readonly status: number | undefined;
  readonly code: string;
  /** From the body's `requestid` or the `x-acs-request-id` header: what DingTalk support asks for. */
  readonly requestId: string | undefined;
  /** DingTalk's message (or ours for client-side codes), without the api/code/request id decoration. */
  readonly dingtalkMessage: string;
  /** True when the same call may succeed later: in-process retries were spent, or `retryAfterMs` applies. */
  readonly retryable: boolean;
  /** Wait at least this long before asking again (fileArchived, IP ban); for a queue's redelivery delay. */
  readonly retryAfterMs: number | undefined;
  readonly issues: readonly ResponseIssue[] | undefined;
  /** The connection failed before the request was written: DingTalk certainly did nothing. */
  readonly requestNotSent: boolean;

  constructor(init: DingTalkErrorInit) {
    const where = init.status === undefined ? "no answer" : `HTTP ${init.status}`;
    super(
      `DingTalk ${init.api} failed (${where}, ${init.code}): ${init.detail} [requestId ${init.requestId ?? "none"}]`,
    );
    this.api = init.api;
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.dingtalkMessage = init.detail;
    this.retryAfterMs = init.retryAfterMs;
    this.issues = init.issues;
    this.requestNotSent = init.requestNotSent ?? false;
    const decision = classifyDingTalkFailure(init.status, init.code);
    this.retryable = decision === "retry" || decision === "retry-later";
  }
}

export function isDingTalkError(value: unknown): value is DingTalkError {
  return value instanceof DingTalkError;
}

// ── sanitising ─────────────────────────────────────────────────────────────────────────────────────

const MAX_DETAIL_LENGTH = 300;

/**
 * Make text from outside safe to put in an error or a log line: replace every known secret, strip query
 * strings from URLs (signed URLs carry their signature there), and bound the length.
 */
export function sanitize(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("[redacted]");
  }
  out = out.replace(/(https?:\/\/[^\s?#"']+)[?#][^\s"']*/gi, "$1?[redacted]");
  return out.length > MAX_DETAIL_LENGTH ? `${out.slice(0, MAX_DETAIL_LENGTH)}…` : out;
}

// ── interpreting answers ───────────────────────────────────────────────────────────────────────────

export interface Answer {
  api: DingTalkApi;
  status: number;
  /** Parsed JSON, or the raw text when it was not JSON, or undefined when there was no body. */
  body: unknown;
  /** The `x-acs-request-id` header. */
  headerRequestId: string | undefined;
  secrets: Iterable<string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** DingTalk's APIs answer JSON; a body starting with "<" is an HTML (or XML) page from something else. */
export function looksLikeHtml(body: unknown): boolean {
  return typeof body === "string" && /^\s*</.test(body);
}

/** `{"status":1111,"wait":5}`: the IP-ban answer. */
function banWaitMs(body: unknown): number | undefined {
  if (!isRecord(body) || body.status !== 1111) return undefined;
  return typeof body.wait === "number" && body.wait > 0 ? body.wait * 60_000 : IP_BAN_RETRY_AFTER_MS;
}

/**
 * The IP ban answers with an HTML page or `{"status":1111}` — possibly even with HTTP 200 — instead of
 * DingTalk's error JSON. An HTML page on a 5xx is more likely a proxy's error page: leave it to the
 * status. Returns the error, or undefined when the answer is not a ban.
 */
export function ipBanError(answer: Answer): DingTalkError | undefined {
  const wait = banWaitMs(answer.body);
  const html = answer.status < 500 && looksLikeHtml(answer.body);
  if (wait === undefined && !html) return undefined;
  return new DingTalkError({
    api: answer.api,
    status: answer.status,
    code: CLIENT_CODES.ipBanned,
    detail: html
      ? "DingTalk answered with an HTML page (IP ban: too many calls from this IP)"
      : "DingTalk banned this IP for too many calls",
    requestId: answer.headerRequestId,
    retryAfterMs: wait ?? IP_BAN_RETRY_AFTER_MS,
  });
}

/** A non-2xx answer → DingTalkError, reading DingTalk's `{code, message, requestid}` when present. */
export function errorFromAnswer(answer: Answer): DingTalkError {
  const banned = ipBanError(answer);
  if (banned) return banned;
  const body = isRecord(answer.body) ? answer.body : {};
  const code = typeof body.code === "string" && body.code !== "" ? body.code : CLIENT_CODES.httpError;
  const message =
    typeof body.message === "string" && body.message !== ""
      ? body.message
      : `unexpected HTTP ${answer.status} without a DingTalk error body`;
  const requestId =
    typeof body.requestid === "string" && body.requestid !== "" ? body.requestid : answer.headerRequestId;
  return new DingTalkError({
    api: answer.api,
    status: answer.status,
    code,
    detail: sanitize(message, answer.secrets),
    requestId,
    retryAfterMs: code === "fileArchived" ? FILE_ARCHIVED_RETRY_AFTER_MS : undefined,
  });
}

/** A 2xx answer whose body is not what the API promises. */
export function invalidResponseError(
  api: DingTalkApi,
  status: number,
  requestId: string | undefined,
  detail: string,
  issues?: readonly ResponseIssue[],
): DingTalkError {
  return new DingTalkError({ api, status, code: CLIENT_CODES.invalidResponse, detail, requestId, issues });
}

/**
 * A failure with no answer. `reason` comes from the transport (e.g. "ECONNREFUSED"); it holds no headers,
 * but is sanitised anyway because it may echo a URL.
 */
export function transportError(
  api: DingTalkApi,
  kind: "network" | "timeout",
  reason: string,
  secrets: Iterable<string>,
  extra: { requestNotSent?: boolean; requestId?: string | undefined } = {},
): DingTalkError {
  return new DingTalkError({
    api,
    status: undefined,
    code: kind === "timeout" ? CLIENT_CODES.timeout : CLIENT_CODES.network,
    detail: sanitize(reason, secrets),
    // When the headers came and the body did not: DingTalk's id for the request is known.
    requestId: extra.requestId,
    requestNotSent: extra.requestNotSent,
  });
}

/**
 * A call that is not idempotent went out and no clear answer came back: report that, keeping what was seen
 * (status, DingTalk's request id, the original code) so a person can check the conversation.
 */
export function outcomeUnknownError(failure: DingTalkError): DingTalkError {
  const seen = failure.status === undefined ? "no answer" : `HTTP ${failure.status}`;
  return new DingTalkError({
    api: failure.api,
    status: failure.status,
    code: CLIENT_CODES.outcomeUnknown,
    detail: `the request reached DingTalk but its outcome is unknown (${seen}, ${failure.code}: ${failure.dingtalkMessage}); it was not repeated, so DingTalk did it once or not at all`,
    requestId: failure.requestId,
  });
}
