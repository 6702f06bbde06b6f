import { z } from "zod";
import {
  ConfigError,
  type Env,
  loadIdempotencyConfig,
  loadSections,
  loadUnionIdPolicy,
  type SecretSource,
  secretSource,
} from "../config";
import { parseSourcesJson, SourcesError } from "../schedule/sources";

/**
 * The dingtalk-events function's own section of configuration, in the style of lib/config/env.ts: every
 * problem reported at once naming the variable, secret values never echoed.
 */
export interface DingTalkEventsConfig {
  /** The callback `token` from DingTalk's developer console (signs pushes and our replies). */
  token: SecretSource;
  /** The callback `EncodingAESKey` (43 characters). */
  aesKey: SecretSource;
  /** Whom pushes are encrypted for: DINGTALK_EVENT_OWNER_KEY, else DINGTALK_APP_KEY. */
  ownerKey: string;
  /** The archive job queue the events feed. */
  archiveQueueUrl: string;
  /** How far a push's timestamp may be from our clock, either way. */
  maxSkewMs: number;
  /** Largest accepted request body; a push is well under 4 KiB. */
  maxBodyBytes: number;
  /**
   * The spaces of ARCHIVE_SOURCES: a push for any other space is acknowledged and ignored (archiving it would
   * cost 2 metered calls). Undefined = archive every push (ARCHIVE_SOURCES unset, or
   * DINGTALK_EVENTS_ARCHIVE_ALL=true).
   */
  archiveSpaces: string[] | undefined;
}

/** 5 minutes: DingTalk retries after 10 s and 30 s, and Lambda clocks are NTP-synced. */
export const DEFAULT_MAX_SKEW_SECONDS = 300;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

const ENCODING_AES_KEY = /^[A-Za-z0-9+/]{43}$/;

const shape = {
  DINGTALK_APP_KEY: z.string().trim().min(1, "must not be empty"),
  DINGTALK_EVENT_OWNER_KEY: z.string().trim().min(1, "must not be empty").optional(),
  ARCHIVE_QUEUE_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  DINGTALK_EVENT_MAX_SKEW_SECONDS: z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(30, "must be at least 30")
    .max(3600, "must be at most 3600")
    .default(DEFAULT_MAX_SKEW_SECONDS),
  DINGTALK_EVENTS_ARCHIVE_ALL: z
    .enum(["true", "false"], { error: "must be true or false" })
    .default("false")
    .transform((value) => value === "true"),
};

export function loadDingTalkEventsConfig(env: Env = process.env): DingTalkEventsConfig {
  const problems: string[] = [];
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0]);
      problems.push(`${variable} ${env[variable] === undefined ? "is required" : issue.message}`);
    }
  }
  const token = secretSource(env, "DINGTALK_EVENT_TOKEN", problems);
  const aesKey = secretSource(env, "DINGTALK_EVENT_AES_KEY", problems);
  // A key given as a value is checked now; one read from AWS is checked when it is read (callbackKeys).
  if (aesKey?.kind === "value" && !ENCODING_AES_KEY.test(aesKey.value)) {
    problems.push(
      `DINGTALK_EVENT_AES_KEY must be 43 base64 characters (got ${aesKey.value.length} characters)`,
    );
  }
  let archiveSpaces: string[] | undefined;
  const sourcesText = env.ARCHIVE_SOURCES?.trim();
  if (sourcesText) {
    try {
      // Only the spaces matter here: which operator lists a source is the schedule's concern, so a source
      // without one (and no DINGTALK_UNION_ID) is no error for this function ("-" stands in).
      const sources = parseSourcesJson(sourcesText, "ARCHIVE_SOURCES", env.DINGTALK_UNION_ID?.trim() || "-");
      archiveSpaces = [...new Set(sources.map((source) => source.spaceId))];
    } catch (error) {
      if (!(error instanceof SourcesError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0 || !parsed.success || !token || !aesKey) throw new ConfigError(problems);
  const section = parsed.data;
  return {
    token,
    aesKey,
    ownerKey: section.DINGTALK_EVENT_OWNER_KEY ?? section.DINGTALK_APP_KEY,
    archiveQueueUrl: section.ARCHIVE_QUEUE_URL,
    maxSkewMs: section.DINGTALK_EVENT_MAX_SKEW_SECONDS * 1000,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    archiveSpaces: section.DINGTALK_EVENTS_ARCHIVE_ALL ? undefined : archiveSpaces,
  };
}

/** Everything the dingtalk-events function needs from the environment, validated at once (cold start). */
export function loadDingTalkEventsSettings(env: Env = process.env) {
  const settings = loadSections({
    events: () => loadDingTalkEventsConfig(env),
    idempotency: () => loadIdempotencyConfig(env),
    operators: () => loadUnionIdPolicy(env),
  });
  // A push is accepted up to maxSkew either side of its timestamp: a replay can come 2 x maxSkew after the
  // first delivery, and must still find the idempotency record.
  const window = (2 * settings.events.maxSkewMs) / 1000;
  if (settings.idempotency.expiresAfterSeconds < window) {
    throw new ConfigError([
      `IDEMPOTENCY_TTL_SECONDS must be at least twice DINGTALK_EVENT_MAX_SKEW_SECONDS (${window} s; got ${settings.idempotency.expiresAfterSeconds})`,
    ]);
  }
  return settings;
}

export type DingTalkEventsSettings = ReturnType<typeof loadDingTalkEventsSettings>;
