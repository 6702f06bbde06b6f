import { z } from "zod";

/**
 * Configuration from environment variables, validated once (at cold start) by the section loaders below.
 * A handler loads only the sections it needs, so send-link does not demand ARCHIVE_BUCKET.
 * Every problem is reported at once, naming the variable; secret values never appear in a message.
 */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
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

/**
 * A secret is given either as its value (local runs) or as the name of where it is stored in AWS:
 * `<NAME>_PARAMETER` = an SSM SecureString parameter name, or a Secrets Manager ARN/name prefixed `secretsmanager:`.
 */
export type SecretSource =
  | { kind: "value"; value: string }
  | { kind: "ssm"; name: string }
  | { kind: "secretsmanager"; id: string };

export function secretSource(env: Env, name: string, problems: string[]): SecretSource | undefined {
  const value = env[name] || undefined;
  const reference = env[`${name}_PARAMETER`] || undefined;
  if (value && reference) {
    problems.push(`set either ${name} or ${name}_PARAMETER, not both`);
    return undefined;
  }
  if (value) return { kind: "value", value };
  if (reference) {
    return reference.startsWith("secretsmanager:")
      ? { kind: "secretsmanager", id: reference.slice("secretsmanager:".length) }
      : { kind: "ssm", name: reference };
  }
  problems.push(`${name} (or ${name}_PARAMETER) is required`);
  return undefined;
}

function parseSection<S extends z.ZodRawShape>(
  env: Env,
  shape: S,
  problems: string[],
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const variable = String(issue.path[0]);
    const got = env[variable];
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
}

export function loadDingTalkConfig(env: Env = process.env): DingTalkConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    {
      DINGTALK_API_BASE: httpUrl.default(DEFAULT_DINGTALK_API_BASE),
      DINGTALK_APP_KEY: nonEmpty,
      DINGTALK_UNION_ID: nonEmpty.optional(),
      DINGTALK_TIMEOUT_MS: positiveInt(100, 60_000).default(10_000),
      DINGTALK_PREFER_INTRANET: z
        .enum(["true", "false"], { error: "must be true or false" })
        .default("false")
        .transform((value) => value === "true"),
    },
    problems,
  );
  const appSecret = secretSource(env, "DINGTALK_APP_SECRET", problems);
  return finish(problems, () => ({
    apiBase: section.DINGTALK_API_BASE,
    appKey: section.DINGTALK_APP_KEY,
    appSecret: appSecret as SecretSource,
    defaultUnionId: section.DINGTALK_UNION_ID,
    timeoutMs: section.DINGTALK_TIMEOUT_MS,
    preferIntranet: section.DINGTALK_PREFER_INTRANET,
  }));
}

export interface WebhookConfig {
  secret: SecretSource;
  /** Largest accepted request body; a webhook body is a few hundred bytes. */
  maxBodyBytes: number;
}

export function loadWebhookConfig(env: Env = process.env): WebhookConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    { WEBHOOK_MAX_BODY_BYTES: positiveInt(256, 1024 * 1024).default(64 * 1024) },
    problems,
  );
  const secret = secretSource(env, "WEBHOOK_SECRET", problems);
  return finish(problems, () => ({
    secret: secret as SecretSource,
    maxBodyBytes: section.WEBHOOK_MAX_BODY_BYTES,
  }));
}

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
      IDEMPOTENCY_TTL_SECONDS: positiveInt(60, 30 * 24 * 3600).default(24 * 3600),
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

export interface ArchiveQueueConfig {
  /** The archive job queue: webhooks and events enqueue here; paused and deferred jobs return here. */
  queueUrl: string;
  /** Where permanently failed jobs go, with their reason. */
  deadLetterQueueUrl: string;
  /** Stop starting parts when the invocation has less than this left, seconds. */
  stopMarginSeconds: number;
  /** When a requeued job gives up (lib/jobs/requeue.ts): failed attempts, age, longest wait. */
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
