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
import {
  ConfigError,
  type Env,
  finish,
  httpUrl,
  loadArchiveConfig,
  loadDingTalkConfig,
  loadSections,
  parseSection,
  wholeNumber,
} from "../config";
import * as z from "../schema";
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
  const section = parseSection(
    env,
    {
      ARCHIVE_QUEUE_URL: httpUrl,
      ARCHIVE_SCAN_QUEUE_URL: httpUrl,
      ARCHIVE_SCAN_STOP_MARGIN_SECONDS: z._default(
        wholeNumber(5, 600, "must be a whole number from 5 to 600"),
        DEFAULT_STOP_MARGIN_SECONDS,
      ),
      ARCHIVE_FULL_LISTING_DAYS: z._default(
        wholeNumber(0, 365, "must be a whole number from 0 to 365"),
        DEFAULT_FULL_LISTING_DAYS,
      ),
    },
    problems,
  );

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
  return finish(problems, () => ({
    sources,
    archiveQueueUrl: section.ARCHIVE_QUEUE_URL,
    scanQueueUrl: section.ARCHIVE_SCAN_QUEUE_URL,
    stopMarginSeconds: section.ARCHIVE_SCAN_STOP_MARGIN_SECONDS,
    fullListingEveryDays: section.ARCHIVE_FULL_LISTING_DAYS,
  }));
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
