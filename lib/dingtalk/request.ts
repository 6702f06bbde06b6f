/**
 * One DingTalk call: send it over ky, turn whatever comes back into a validated value or a DingTalkError,
 * and retry by the policy in retry.ts.
 *
 * Why our own loop instead of ky's `retry` option: the decision depends on DingTalk's error code in the
 * body (a 400 can be retryable, a 403 can be a QPS limit or a quota), QPS limits want a different wait,
 * a refused token wants a refresh-and-repeat rather than a backoff, the budget is total time as well as
 * attempts, and tests inject the clock. So ky runs with `retry: 0` and does what it is good at:
 * URL building, JSON bodies, per-attempt and body-read timeouts, and error bodies read for us.
 */
import ky, { isHTTPError, isNetworkError, isTimeoutError, type KyInstance } from "ky";
import type { Logger } from "../logging";
import type * as z from "../schema";
import {
  type DingTalkApi,
  type DingTalkError,
  errorFromAnswer,
  invalidResponseError,
  ipBanError,
  outcomeUnknownError,
  type ResponseIssue,
  transportError,
} from "./errors";
import { classifyDingTalkFailure, classifySendFailure, type RetryPolicy, retryDelayMs } from "./retry";
import type { TokenCache } from "./token";

export const ACCESS_TOKEN_HEADER = "x-acs-dingtalk-access-token";
const REQUEST_ID_HEADER = "x-acs-request-id";

export interface CallSpec<S extends z.ZodMiniType> {
  api: DingTalkApi;
  method: "get" | "post";
  /** Relative to the base URL, segments already encoded, e.g. "v1.0/storage/spaces/s1/dentries". */
  path: string;
  searchParams?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  /** Validates the 2xx answer. */
  schema: S;
  /** False only for the token call itself. */
  authenticated: boolean;
  /**
   * False for a call that changes something each time (send-file-link): it is repeated only where DingTalk
   * certainly did nothing, and an uncertain failure becomes `outcomeUnknown` (retry.ts classifySendFailure).
   * Default true: reads are retried freely.
   */
  idempotent?: boolean;
  /**
   * When the caller must have its answer (epoch ms, the clock of `now`): no attempt starts that could
   * outlive it (its timeout included). For a send, what kills the caller mid-request (the end of a Lambda
   * invocation) would leave its outcome unknown and unrecorded; stopping before the request is written
   * leaves it certainly not sent.
   */
  deadline?: number | undefined;
}

export interface CallDeps {
  http: KyInstance;
  tokens: TokenCache;
  policy: RetryPolicy;
  now: () => number;
  /** How long one attempt may take (the HTTP client's timeout). */
  attemptTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  logger: Logger;
  /** Strings to redact from anything we log or throw (app secret, tokens). */
  secrets: () => string[];
  /** Before each attempt of a metered (authenticated) call; what it throws ends the call unmade. */
  beforeMeteredCall?: ((api: DingTalkApi) => Promise<void>) | undefined;
}

/** Per-request facts the afterResponse hook hands back (ky's `context` is shared with the hooks). */
interface Seen {
  status?: number;
  requestId?: string;
}

export function createHttp(options: {
  baseUrl: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}): KyInstance {
  return ky.create({
    // `prefix`, not `baseUrl`: a base with a path (a proxy, "https://gw.example.com/dingtalk") must keep it.
    prefix: options.baseUrl,
    timeout: options.timeoutMs,
    retry: 0,
    // ky's .text() would otherwise ask for text/*; DingTalk answers JSON.
    headers: { accept: "application/json" },
    ...(options.fetch ? { fetch: options.fetch } : {}),
    hooks: {
      afterResponse: [
        ({ response, options: { context } }) => {
          const seen = context.seen as Seen | undefined;
          if (!seen) return;
          seen.status = response.status;
          seen.requestId = response.headers.get(REQUEST_ID_HEADER) ?? undefined;
        },
      ],
    },
  });
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: DingTalkError };

/** Make the call, retrying by the policy; resolves with the validated answer or rejects with DingTalkError. */
export async function callDingTalk<S extends z.ZodMiniType>(
  spec: CallSpec<S>,
  deps: CallDeps,
): Promise<z.output<S>> {
  const started = deps.now();
  let failedAttempts = 0;
  let tokenRefreshed = false;
  let lastError: DingTalkError | undefined;
  const outlives = (waitMs: number) =>
    spec.deadline !== undefined && deps.now() + waitMs + deps.attemptTimeoutMs > spec.deadline;
  for (;;) {
    const token = spec.authenticated ? await deps.tokens.get() : undefined;
    if (outlives(0)) throw lastError ?? noTimeLeftError(spec.api, deps.secrets());
    // Every attempt of a metered call counts against the org's monthly quota (the token call does not).
    if (spec.authenticated) await deps.beforeMeteredCall?.(spec.api);
    const outcome = await attemptOnce(spec, token, deps);
    if (outcome.ok) return outcome.value;

    const { error } = outcome;
    lastError = error;
    const facts = { api: spec.api, status: error.status, code: error.code, requestId: error.requestId };
    const decision =
      spec.idempotent === false
        ? classifySendFailure(error)
        : classifyDingTalkFailure(error.status, error.code);
    if (decision === "outcome-unknown") {
      deps.logger.warn("DingTalk call may have taken effect; not repeating it", facts);
      throw outcomeUnknownError(error);
    }
    if (decision === "refresh-token" && token !== undefined && !tokenRefreshed) {
      // Refresh once and repeat once; this repeat does not spend a backoff attempt.
      tokenRefreshed = true;
      deps.tokens.invalidate(token);
      deps.logger.info("DingTalk refused the access token; refreshing it and repeating the call", facts);
      continue;
    }
    if (decision !== "retry") throw error;

    failedAttempts++;
    if (failedAttempts >= deps.policy.maxAttempts) {
      deps.logger.warn("DingTalk call failed; attempts spent", { ...facts, attempts: failedAttempts });
      throw error;
    }
    const delayMs = retryDelayMs(failedAttempts, error.code, deps.policy, deps.random);
    if (deps.now() - started + delayMs > deps.policy.maxTotalMs || outlives(delayMs)) {
      deps.logger.warn("DingTalk call failed; time budget spent", { ...facts, attempts: failedAttempts });
      throw error;
    }
    deps.logger.warn("DingTalk call failed; retrying", { ...facts, attempt: failedAttempts, delayMs });
    await deps.sleep(delayMs);
  }
}

/** Nothing was sent: too little time was left for an attempt to end before the caller's deadline. */
function noTimeLeftError(api: DingTalkApi, secrets: string[]): DingTalkError {
  return transportError(
    api,
    "timeout",
    "too little time left before the caller's deadline to start",
    secrets,
    {
      requestNotSent: true,
    },
  );
}

async function attemptOnce<S extends z.ZodMiniType>(
  spec: CallSpec<S>,
  token: string | undefined,
  deps: CallDeps,
): Promise<Outcome<z.output<S>>> {
  const seen: Seen = {};
  const started = deps.now();
  let text: string;
  try {
    text = await deps
      .http(spec.path, {
        method: spec.method,
        searchParams: spec.searchParams,
        json: spec.json,
        headers: token === undefined ? undefined : { [ACCESS_TOKEN_HEADER]: token },
        context: { seen },
      })
      .text();
  } catch (error) {
    const failure = failureFromException(spec.api, error, deps.secrets(), seen.requestId);
    deps.logger.debug("DingTalk call failed", {
      api: spec.api,
      status: failure.status,
      code: failure.code,
      requestId: failure.requestId,
      durationMs: deps.now() - started,
    });
    return { ok: false, error: failure };
  }
  deps.logger.debug("DingTalk answered", {
    api: spec.api,
    status: seen.status,
    requestId: seen.requestId,
    durationMs: deps.now() - started,
  });
  return interpretSuccess(spec, text, seen.status ?? 200, seen.requestId, deps.secrets());
}

/** ky's errors → DingTalkError. Anything else is a bug in our code: let it propagate as is. */
function failureFromException(
  api: DingTalkApi,
  error: unknown,
  secrets: string[],
  headerRequestId: string | undefined,
): DingTalkError {
  if (isHTTPError(error)) {
    return errorFromAnswer({
      api,
      status: error.response.status,
      // ky parses JSON bodies only when the Content-Type says JSON; the ban answer may not say so.
      body: typeof error.data === "string" ? parseBody(error.data) : error.data,
      headerRequestId: error.response.headers.get(REQUEST_ID_HEADER) ?? undefined,
      secrets,
    });
  }
  const requestId = headerRequestId;
  if (isTimeoutError(error))
    return transportError(api, "timeout", "no answer in time", secrets, { requestId });
  // ky wraps failures before the answer in NetworkError; a connection cut while reading the body comes
  // through as undici's raw TypeError("terminated").
  if (isNetworkError(error)) {
    const requestNotSent = failedToConnect(error);
    return transportError(api, "network", describeCauses(error.cause), secrets, {
      requestNotSent,
      requestId,
    });
  }
  if (error instanceof TypeError && (error.message === "terminated" || error.message === "fetch failed")) {
    const requestNotSent = failedToConnect(error);
    return transportError(api, "network", describeCauses(error), secrets, { requestNotSent, requestId });
  }
  throw error;
}

/**
 * Failures of connecting (name lookup, refused, unreachable, connect timeout): no byte of the request was
 * written, so even a call that is not idempotent may be repeated. A reset or "terminated" may come after
 * the request went out: not in this list.
 */
const CONNECT_FAILURE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function failedToConnect(error: unknown): boolean {
  for (let link = error, depth = 0; link instanceof Error && depth < 5; link = link.cause, depth++) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === "string" && CONNECT_FAILURE_CODES.has(code)) return true;
  }
  return false;
}

/** "fetch failed: connect ECONNREFUSED 127.0.0.1:4010" — messages and codes only, never the objects. */
function describeCauses(error: unknown): string {
  const parts: string[] = [];
  for (let link = error, depth = 0; link instanceof Error && depth < 5; link = link.cause, depth++) {
    const code = (link as { code?: unknown }).code;
    parts.push(
      typeof code === "string" && !link.message.includes(code) ? `${code} ${link.message}` : link.message,
    );
  }
  return parts.join(": ") || "connection failed";
}

function parseBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function interpretSuccess<S extends z.ZodMiniType>(
  spec: CallSpec<S>,
  text: string,
  status: number,
  requestId: string | undefined,
  secrets: string[],
): Outcome<z.output<S>> {
  const body = parseBody(text);
  const banned = ipBanError({ api: spec.api, status, body, headerRequestId: requestId, secrets });
  if (banned) return { ok: false, error: banned };
  if (typeof body !== "object" || body === null) {
    const what = body === undefined ? "an empty body" : "a body that is not JSON";
    return {
      ok: false,
      error: invalidResponseError(spec.api, status, requestId, `DingTalk answered with ${what}`),
    };
  }
  const parsed = spec.schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  // Paths and zod's messages only: zod does not echo input values unless asked, and these may be secrets.
  const issues: ResponseIssue[] = parsed.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  const summary = issues
    .slice(0, 5)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join("; ");
  const detail = `the answer does not match the API: ${summary}${issues.length > 5 ? "; …" : ""}`;
  return { ok: false, error: invalidResponseError(spec.api, status, requestId, detail, issues) };
}

/** ["dentries", 0, "size"] → "dentries[0].size". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}
