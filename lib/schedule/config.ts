/**
 * The schedule function's configuration, in the style of lib/config (and through its loaders):
 *
 * - ARCHIVE_SOURCES        JSON array of {spaceId, parentId?, recursive?, unionId?}; optional when every
 *                          scheduled event brings its own `sources`.
 * - ARCHIVE_QUEUE_URL      the archive job queue (the archive function consumes it).
 * - ARCHIVE_SCAN_QUEUE_URL the scan queue: continuations of runs too big for one invocation.
 * - ARCHIVE_SCAN_STOP_MARGIN_SECONDS  stop listing when less than this is left of the invocation (default 30:
 *                          one page with the DingTalk client's retries takes at most ~20 s).
 * - ARCHIVE_FULL_LISTING_DAYS  a whole-space source is listed in full (reconciliation) at least this often;
 *                          in between, runs list only what changed since the last complete run (default 7;
 *                          0 = every run lists in full). Needs the budget's DynamoDB table to remember runs.
 * plus the DingTalk section (DINGTALK_*) and the archive section (ARCHIVE_BUCKET, ARCHIVE_PREFIX).
 */
import { loadBudgetConfig } from "../budget/config";
import { ConfigError, type Env, loadArchiveConfig, loadDingTalkConfig, loadSections } from "../config";
import { type ArchiveSource, parseSourcesJson, SourcesError } from "./sources";

export interface ScheduleConfig {
  /** The configured sources; empty when ARCHIVE_SOURCES is unset (events must then bring their own). */
  sources: ArchiveSource[];
  archiveQueueUrl: string;
  scanQueueUrl: string;
  stopMarginSeconds: number;
  /** 0 = always full. */
  fullListingEveryDays: number;
}

const DEFAULT_STOP_MARGIN_SECONDS = 30;
const DEFAULT_FULL_LISTING_DAYS = 7;

export function loadScheduleConfig(env: Env = process.env): ScheduleConfig {
  const problems: string[] = [];
  const url = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) {
      problems.push(`${name} is required`);
      return "";
    }
    if (!/^https?:\/\/[^/\s]+/.test(value))
      problems.push(`${name} must be an http(s) URL (got ${JSON.stringify(value.slice(0, 80))})`);
    return value.replace(/\/+$/, "");
  };
  const archiveQueueUrl = url("ARCHIVE_QUEUE_URL");
  const scanQueueUrl = url("ARCHIVE_SCAN_QUEUE_URL");

  const marginText = env.ARCHIVE_SCAN_STOP_MARGIN_SECONDS?.trim();
  const stopMarginSeconds = marginText ? Number(marginText) : DEFAULT_STOP_MARGIN_SECONDS;
  if (!Number.isInteger(stopMarginSeconds) || stopMarginSeconds < 5 || stopMarginSeconds > 600) {
    problems.push(
      `ARCHIVE_SCAN_STOP_MARGIN_SECONDS must be a whole number from 5 to 600 (got ${JSON.stringify(marginText)})`,
    );
  }

  const daysText = env.ARCHIVE_FULL_LISTING_DAYS?.trim();
  const fullListingEveryDays = daysText ? Number(daysText) : DEFAULT_FULL_LISTING_DAYS;
  if (!Number.isInteger(fullListingEveryDays) || fullListingEveryDays < 0 || fullListingEveryDays > 365) {
    problems.push(
      `ARCHIVE_FULL_LISTING_DAYS must be a whole number from 0 to 365 (got ${JSON.stringify(daysText)})`,
    );
  }

  let sources: ArchiveSource[] = [];
  const text = env.ARCHIVE_SOURCES?.trim();
  if (text) {
    try {
      sources = parseSourcesJson(text, "ARCHIVE_SOURCES", env.DINGTALK_UNION_ID?.trim() || undefined);
    } catch (error) {
      if (!(error instanceof SourcesError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { sources, archiveQueueUrl, scanQueueUrl, stopMarginSeconds, fullListingEveryDays };
}

/** Everything the schedule function needs from the environment, validated at once (cold start). */
export function loadScheduleSettings(env: Env = process.env) {
  const settings = loadSections({
    dingtalk: () => loadDingTalkConfig(env),
    archive: () => loadArchiveConfig(env),
    schedule: () => loadScheduleConfig(env),
    budget: () => loadBudgetConfig(env),
  });
  // The archive worker refuses jobs naming a union id outside ALLOWED_UNION_IDS: say so now, not per file.
  const refused = settings.schedule.sources.flatMap((source, i) =>
    source.unionId !== undefined && !settings.dingtalk.allowedUnionIds.includes(source.unionId)
      ? [`ARCHIVE_SOURCES[${i}].unionId is not in ALLOWED_UNION_IDS`]
      : [],
  );
  if (refused.length > 0) throw new ConfigError(refused);
  return settings;
}

export type ScheduleSettings = ReturnType<typeof loadScheduleSettings>;
