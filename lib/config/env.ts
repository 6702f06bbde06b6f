import { z } from "zod";
import { dingTalkId } from "../dingtalk/ids";

/**
 * Configuration from environment variables, validated once (at cold start) by the section loaders below.
 * A handler loads only the sections it needs, so send-link does not demand ARCHIVE_BUCKET.
 * Every problem is reported at once, naming the variable; secret values never appear in a message.
 */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    // Sections loaded together may report a shared variable (SECRETS_MAX_AGE_SECONDS) more than once.
    const unique = [...new Set(problems)];
    super(`Invalid configuration: ${unique.join("; ")}`);
    this.name = "ConfigError";
    this.problems = unique;
  }
}

/** DingTalk's public OpenAPI host; the sandbox is chosen by setting DINGTALK_API_BASE. */
export const DEFAULT_DINGTALK_API_BASE = "https://api.dingtalk.com";
/** Hosts DingTalk's signed download URLs point at (storage on Alibaba Cloud OSS behind DingTalk domains). */
export const DEFAULT_DOWNLOAD_ALLOWED_HOSTS = ["*.dingtalk.com", "*.aliyuncs.com"];

const MiB = 1024 * 1024;

const nonEmpty = z.string().trim().min(1, "must not be empty");
const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .transform((u) => u.replace(/\/+$/, ""));
const positiveInt = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const csv = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^(\*\.)?[a-z0-9.-]+(:\d+)?$/i, "must be a host[:port] or *.suffix list")));

/** How long a secret read from SSM is reused before it is read again, by default (SECRETS_MAX_AGE_SECONDS). */
export const DEFAULT_SECRETS_MAX_AGE_SECONDS = 300;

/**
 * A secret is given either as its value (local runs) or as the name of the SSM SecureString that holds it
 * (`<NAME>_PARAMETER`, in AWS). A parameter is re-read through Powertools' cache at most `maxAgeSeconds`
 * after the last read (SECRETS_MAX_AGE_SECONDS), so a rotated secret reaches warm containers in that time.
 */
export type SecretSource =
  | { kind: "value"; name: string; value: string }
  | { kind: "ssm"; name: string; parameter: string; maxAgeSeconds: number };

/** The required secret NAME: its value in NAME, or its SSM SecureString name in NAME_PARAMETER. */
export function secretSource(env: Env, name: string, problems: string[]): SecretSource | undefined {
  const source = optionalSecretSource(env, name, problems);
  if (source === null) problems.push(`${name} (or ${name}_PARAMETER) is required`);
  return source ?? undefined;
}

/**
 * An optional secret (e.g. the previous webhook secret during a rotation): null when neither NAME nor
 * NAME_PARAMETER is set, undefined when the setting is wrong (the problem is recorded).
 */
export function optionalSecretSource(
  env: Env,
  name: string,
  problems: string[],
): SecretSource | null | undefined {
  const value = env[name] || undefined;
  const parameter = env[`${name}_PARAMETER`] || undefined;
  if (value && parameter) {
    problems.push(`set either ${name} or ${name}_PARAMETER, not both`);
    return undefined;
  }
  if (value) return { kind: "value", name, value };
  if (!parameter) return null;
  if (parameter.startsWith("secretsmanager:")) {
    problems.push(
      `${name}_PARAMETER must name an SSM SecureString parameter; Secrets Manager is not supported (got "secretsmanager:...")`,
    );
    return undefined;
  }
  // A name, or the ARN of a parameter shared from another account.
  if (!/^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter)?[A-Za-z0-9_.\-/]{1,2048}$/.test(parameter)) {
    problems.push(`${name}_PARAMETER must be an SSM parameter name or ARN (letters, digits and _ . - /)`);
    return undefined;
  }
  const maxAgeSeconds = secretsMaxAgeSeconds(env, problems);
  if (maxAgeSeconds === undefined) return undefined;
  return { kind: "ssm", name, parameter, maxAgeSeconds };
}

const secretsMaxAge = positiveInt(1, 3600).default(DEFAULT_SECRETS_MAX_AGE_SECONDS);

function secretsMaxAgeSeconds(env: Env, problems: string[]): number | undefined {
  const parsed = secretsMaxAge.safeParse(env.SECRETS_MAX_AGE_SECONDS || undefined);
  if (parsed.success) return parsed.data;
  const got = JSON.stringify(String(env.SECRETS_MAX_AGE_SECONDS).slice(0, 80));
  problems.push(`SECRETS_MAX_AGE_SECONDS ${parsed.error.issues[0]?.message ?? "is invalid"} (got ${got})`);
  return undefined;
}

function parseSection<S extends z.ZodRawShape>(
  env: Env,
  shape: S,
  problems: string[],
): z.infer<z.ZodObject<S>> {
  // Empty counts as unset: a deployment template passes "" for a setting a stage leaves out.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = z.object(shape).safeParse(given);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const variable = String(issue.path[0]);
    const got = given[variable];
    // Only non-secret variables are parsed here, so echoing a short value helps the reader.
    const shown = got === undefined ? "" : ` (got ${JSON.stringify(got.slice(0, 80))})`;
    problems.push(
      `${variable} ${issue.code === "invalid_type" && got === undefined ? "is required" : issue.message}${shown}`,
    );
  }
  return undefined as never;
}

function finish<T>(problems: string[], value: () => T): T {
  if (problems.length > 0) throw new ConfigError(problems);
  return value();
}

export interface DingTalkConfig {
  apiBase: string;
  appKey: string;
  appSecret: SecretSource;
  /** The operator whose permissions calls run with when a request names none. */
  defaultUnionId: string | undefined;
  /** Per DingTalk call attempt (answer and body). */
  timeoutMs: number;
  /** Ask for download URLs inside Alibaba Cloud's network (deployments there only). */
  preferIntranet: boolean;
  /** The only union ids a request may name (ALLOWED_UNION_IDS; default just DINGTALK_UNION_ID). */
  allowedUnionIds: string[];
}

/**
 * Plain http only for a server on this machine (the sandbox): anywhere else the app secret and every access
 * token would cross the network in the clear.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

const apiBaseUrl = httpUrl.refine((url) => {
  const parsed = new URL(url);
  return parsed.protocol === "https:" || isLoopbackHost(parsed.hostname);
}, "must be an https URL (plain http only for a loopback host: 127.0.0.0/8, ::1, localhost)");

const unionIdList = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(dingTalkId(), { error: "must be a comma-separated list of union ids" })
      .min(1, "must name at least one union id"),
  );

export interface UnionIdPolicy {
  /** DINGTALK_UNION_ID: whom a request naming no union id runs as. */
  defaultUnionId: string | undefined;
  /** ALLOWED_UNION_IDS, default just DINGTALK_UNION_ID: the only union ids a request may name. */
  allowedUnionIds: string[];
}

/** Whom requests may act as (also read by dingtalk-events, which needs no app secret). */
export function loadUnionIdPolicy(env: Env = process.env): UnionIdPolicy {
  const problems: string[] = [];
  const section = parseSection(
    env,
    { DINGTALK_UNION_ID: nonEmpty.optional(), ALLOWED_UNION_IDS: unionIdList.optional() },
    problems,
  );
  return finish(problems, () => ({
    defaultUnionId: section.DINGTALK_UNION_ID,
    allowedUnionIds:
      section.ALLOWED_UNION_IDS ?? (section.DINGTALK_UNION_ID ? [section.DINGTALK_UNION_ID] : []),
  }));
}

export function loadDingTalkConfig(env: Env = process.env): DingTalkConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    {
      DINGTALK_API_BASE: apiBaseUrl.default(DEFAULT_DINGTALK_API_BASE),
      DINGTALK_APP_KEY: nonEmpty,
      DINGTALK_TIMEOUT_MS: positiveInt(100, 60_000).default(10_000),
      DINGTALK_PREFER_INTRANET: z
        .enum(["true", "false"], { error: "must be true or false" })
        .default("false")
        .transform((value) => value === "true"),
    },
    problems,
  );
  const appSecret = secretSource(env, "DINGTALK_APP_SECRET", problems);
  let operators: UnionIdPolicy | undefined;
  try {
    operators = loadUnionIdPolicy(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  return finish(problems, () => ({
    apiBase: section.DINGTALK_API_BASE,
    appKey: section.DINGTALK_APP_KEY,
    appSecret: appSecret as SecretSource,
    timeoutMs: section.DINGTALK_TIMEOUT_MS,
    preferIntranet: section.DINGTALK_PREFER_INTRANET,
    ...(operators as UnionIdPolicy),
  }));
}

/** The endpoints that take Standard Webhooks; each has a secret of its own so a body signed for one is refused at the other. */
export type WebhookEndpoint = "send-link" | "archive";

const WEBHOOK_SECRET_VARIABLES: Record<WebhookEndpoint, string> = {
  "send-link": "WEBHOOK_SECRET_SEND_LINK",
  archive: "WEBHOOK_SECRET_ARCHIVE",
};

export interface WebhookConfig {
  endpoint: WebhookEndpoint;
  /** The secret senders sign with now. */
  secret: SecretSource;
  /** During a rotation, the secret being replaced: accepted while it is set. */
  previousSecret: SecretSource | undefined;
  /** Largest accepted request body; a webhook body is a few hundred bytes. */
  maxBodyBytes: number;
}

export function loadWebhookConfig(endpoint: WebhookEndpoint, env: Env = process.env): WebhookConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    { WEBHOOK_MAX_BODY_BYTES: positiveInt(256, 1024 * 1024).default(64 * 1024) },
    problems,
  );
  if (env.WEBHOOK_SECRET || env.WEBHOOK_SECRET_PARAMETER) {
    problems.push(
      "WEBHOOK_SECRET (and WEBHOOK_SECRET_PARAMETER) was split per endpoint: set WEBHOOK_SECRET_SEND_LINK and WEBHOOK_SECRET_ARCHIVE (or their _PARAMETER forms) instead",
    );
  }
  const variable = WEBHOOK_SECRET_VARIABLES[endpoint];
  const secret = secretSource(env, variable, problems);
  const previous = optionalSecretSource(env, `${variable}_PREVIOUS`, problems);
  return finish(problems, () => ({
    endpoint,
    secret: secret as SecretSource,
    previousSecret: previous ?? undefined,
    maxBodyBytes: section.WEBHOOK_MAX_BODY_BYTES,
  }));
}

/** Twice the webhook timestamp tolerance (±5 minutes, fixed by the Standard Webhooks library). */
export const MIN_IDEMPOTENCY_TTL_SECONDS = 2 * 300;

export interface IdempotencyConfig {
  /** DynamoDB table holding idempotency records (key attribute `id`). */
  tableName: string;
  /** How long a completed request is remembered, seconds. */
  expiresAfterSeconds: number;
}

export function loadIdempotencyConfig(env: Env = process.env): IdempotencyConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    {
      IDEMPOTENCY_TABLE: nonEmpty,
      // A signed request is accepted from 5 minutes before its timestamp to 5 minutes after, so a captured one
      // can be replayed up to 10 minutes after it was first seen: its record must still be there.
      IDEMPOTENCY_TTL_SECONDS: positiveInt(MIN_IDEMPOTENCY_TTL_SECONDS, 30 * 24 * 3600).default(24 * 3600),
    },
    problems,
  );
  return finish(problems, () => ({
    tableName: section.IDEMPOTENCY_TABLE,
    expiresAfterSeconds: section.IDEMPOTENCY_TTL_SECONDS,
  }));
}

export interface ArchiveConfig {
  bucket: string;
  /** Prepended to every key; empty or ending in "/". */
  prefix: string;
}

export function loadArchiveConfig(env: Env = process.env): ArchiveConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    {
      ARCHIVE_BUCKET: z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid S3 bucket name"),
      ARCHIVE_PREFIX: z
        .string()
        .default("")
        .refine(
          (p) => !p.startsWith("/") && !p.split("/").includes(".."),
          "must not start with / or contain ..",
        )
        .transform((p) => (p === "" || p.endsWith("/") ? p : `${p}/`)),
    },
    problems,
  );
  return finish(problems, () => ({ bucket: section.ARCHIVE_BUCKET, prefix: section.ARCHIVE_PREFIX }));
}

export interface TransferConfig {
  partSize: number;
  concurrency: number;
  /** Hosts (host[:port] or *.suffix) that signed download URLs may point at. */
  downloadAllowedHosts: string[];
  /** Of those, the ones plain http is accepted for: only a local sandbox (`DOWNLOAD_ALLOW_HTTP_HOSTS`). */
  allowHttpHosts: string[];
}

export function loadTransferConfig(env: Env = process.env): TransferConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    {
      TRANSFER_PART_SIZE: positiveInt(5 * MiB, 5 * 1024 * MiB).default(8 * MiB),
      TRANSFER_CONCURRENCY: positiveInt(1, 64).default(8),
      DOWNLOAD_ALLOWED_HOSTS: csv.optional(),
      DOWNLOAD_ALLOW_HTTP_HOSTS: csv.optional(),
    },
    problems,
  );
  return finish(problems, () => ({
    partSize: section.TRANSFER_PART_SIZE,
    concurrency: section.TRANSFER_CONCURRENCY,
    downloadAllowedHosts: section.DOWNLOAD_ALLOWED_HOSTS ?? DEFAULT_DOWNLOAD_ALLOWED_HOSTS,
    allowHttpHosts: section.DOWNLOAD_ALLOW_HTTP_HOSTS ?? [],
  }));
}

export interface SendLinkQueueConfig {
  /** Optional: where queued send-link requests that can never succeed go, with their reason. */
  deadLetterQueueUrl: string | undefined;
}

export function loadSendLinkQueueConfig(env: Env = process.env): SendLinkQueueConfig {
  const problems: string[] = [];
  const section = parseSection(env, { SEND_LINK_DLQ_URL: httpUrl.optional() }, problems);
  return finish(problems, () => ({ deadLetterQueueUrl: section.SEND_LINK_DLQ_URL }));
}

/** The archive intake only queues jobs: its queue's URL. */
export function loadArchiveIntakeQueueConfig(env: Env = process.env): { queueUrl: string } {
  const problems: string[] = [];
  const section = parseSection(env, { ARCHIVE_QUEUE_URL: httpUrl }, problems);
  return finish(problems, () => ({ queueUrl: section.ARCHIVE_QUEUE_URL }));
}

export interface ArchiveQueueConfig {
  /** The archive job queue: webhooks and events enqueue here; paused and deferred jobs return here. */
  queueUrl: string;
  /** Where permanently failed jobs go, with their reason. */
  deadLetterQueueUrl: string;
  /** Stop starting parts when the invocation has less than this left, seconds. */
  stopMarginSeconds: number;
  /** When a requeued job gives up (lib/archive-worker/requeue.ts): failed attempts, age, longest wait. */
  requeueLimits: { maxAttempts: number; maxAgeMs: number; maxBackoffMs: number };
}

export function loadArchiveQueueConfig(env: Env = process.env): ArchiveQueueConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    {
      ARCHIVE_QUEUE_URL: httpUrl,
      ARCHIVE_DLQ_URL: httpUrl,
      ARCHIVE_STOP_MARGIN_SECONDS: positiveInt(10, 600).default(90),
      ARCHIVE_MAX_ATTEMPTS: positiveInt(1, 100).default(10),
      ARCHIVE_MAX_AGE_HOURS: positiveInt(1, 24 * 30).default(48),
    },
    problems,
  );
  return finish(problems, () => ({
    queueUrl: section.ARCHIVE_QUEUE_URL,
    deadLetterQueueUrl: section.ARCHIVE_DLQ_URL,
    stopMarginSeconds: section.ARCHIVE_STOP_MARGIN_SECONDS,
    requeueLimits: {
      maxAttempts: section.ARCHIVE_MAX_ATTEMPTS,
      maxAgeMs: section.ARCHIVE_MAX_AGE_HOURS * 3600_000,
      // Doubling from DingTalk's 5 minutes: 5, 10, 20 ... min, then every 6 hours.
      maxBackoffMs: 6 * 3600_000,
    },
  }));
}

/**
 * Load several sections at once so one error lists every bad variable of all of them, e.g.
 * `loadSections({ dingtalk: () => loadDingTalkConfig(env), webhook: () => loadWebhookConfig(env) })`.
 */
export function loadSections<S extends Record<string, () => unknown>>(
  loaders: S,
): { [K in keyof S]: ReturnType<S[K]> } {
  const problems: string[] = [];
  const loaded: Record<string, unknown> = {};
  for (const [name, load] of Object.entries(loaders)) {
    try {
      loaded[name] = load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded as { [K in keyof S]: ReturnType<S[K]> };
}
