/**
 * `npm run backfill -- [--space-id S [--parent-id P] [--no-recursive] [--union-id U]] [--full] [--dry-run] [--resume CURSOR]`
 *
 * A one-off archive run over a space or folder (default: the sources of ARCHIVE_SOURCES), through the same
 * lib code as the scheduled Lambda (lib/schedule): list DingTalk folders page by page, compare with S3, queue
 * one archive job per new or changed file version on the archive queue. The archive worker does the copying.
 * - Configuration from the environment (lib/config). With no DingTalk credentials set, the local stack of
 *   `npm start` is the default: the sandbox on 127.0.0.1:4010, fauxqs on 127.0.0.1:4566 and its archive queue,
 *   dynalite on 127.0.0.1:4569 (the budget and the runs' state).
 * - `--dry-run`: list and compare only; the summary's `jobs` are what would be queued, and `estimate` the DingTalk
 *   calls a real run would spend (listing + one per new or changed version; renames are free S3 copies).
 * - A whole space is listed incrementally (only what changed since the last complete run, as the scheduled
 *   function does) when that run is known; `--full` lists everything. Calls are counted against the monthly
 *   budget (lib/budget) in DynamoDB, and the summary's `dingtalkCalls` says what this run spent.
 * - stdout: exactly one JSON line at the end (the run's summary). stderr: warnings and failures.
 * - The run goes on in this process until done (no Lambda time limit, so no scan queue). SIGINT/SIGTERM stop
 *   it after the current page: the summary then holds `cursor`, which `--resume '<cursor JSON>'` continues.
 * - Exit: 0 complete; 1 failed (or DingTalk unavailable: resume later); 2 bad usage; 130/143 stopped by a signal.
 */
import { createS3Client, createSqsClient } from "../lib/aws";
// The modules, not lib/budget's index: the DynamoDB SDK loads only when a table is configured.
import { loadBudgetConfig } from "../lib/budget/config";
import { callMeterFromConfig } from "../lib/budget/from-config";
import { ConfigError, type Env, loadArchiveConfig, loadDingTalkConfig, loadSections } from "../lib/config";
import { dingTalkClientFromConfig } from "../lib/dingtalk";
import type { Logger } from "../lib/logging";
import { type ScanCursor, scanCursorSchema } from "../lib/schedule/cursor";
import { continueRun, type RunSummary, startRun } from "../lib/schedule/run";
import {
  type ArchiveSource,
  archiveSourceSchema,
  parseSourcesJson,
  SourcesError,
} from "../lib/schedule/sources";
import type { ScheduleStateStore } from "../lib/schedule/state";
import {
  EXIT,
  parseFlags,
  requestOrExit,
  SIGNAL_EXIT,
  type StopSignal,
  textLogger,
  UsageError,
  watchStopSignals,
} from "./cli";
import { LOCAL_QUEUES, localFunctionEnv } from "./local-env";

const USAGE =
  "usage: npm run backfill -- [--space-id S [--parent-id P] [--no-recursive] [--union-id U]] [--full] [--dry-run] [--resume CURSOR]";

interface Request {
  /** From the flags; undefined = ARCHIVE_SOURCES. */
  source: Record<string, unknown> | undefined;
  cursor: ScanCursor | undefined;
  dryRun: boolean;
  full: boolean;
}

function parseRequest(argv: string[]): Request | "help" {
  const values = parseFlags(argv, {
    "space-id": { type: "string" },
    "parent-id": { type: "string" },
    "union-id": { type: "string" },
    "no-recursive": { type: "boolean" },
    "dry-run": { type: "boolean" },
    full: { type: "boolean" },
    resume: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  const spaceId = values["space-id"] as string | undefined;
  const dependent = ["parent-id", "union-id", "no-recursive"].filter((name) => values[name] !== undefined);
  if (spaceId === undefined && dependent.length > 0) {
    throw new UsageError(`${dependent.map((d) => `--${d}`).join(", ")} needs --space-id`);
  }
  if (values.resume !== undefined && (spaceId !== undefined || dependent.length > 0)) {
    throw new UsageError(
      "--resume continues a run: it takes no --space-id, --parent-id, --union-id or --no-recursive",
    );
  }
  const source = {
    spaceId,
    ...(values["parent-id"] === undefined ? {} : { parentId: values["parent-id"] }),
    ...(values["union-id"] === undefined ? {} : { unionId: values["union-id"] }),
    recursive: values["no-recursive"] !== true,
  };
  return {
    source: spaceId === undefined ? undefined : source,
    cursor: values.resume === undefined ? undefined : parseCursor(values.resume as string),
    dryRun: values["dry-run"] === true,
    full: values.full === true,
  };
}

function parseCursor(text: string): ScanCursor {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--resume is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = scanCursorSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join(".") || "(cursor)"} ${issue.message}`,
  );
  throw new UsageError(`--resume is not a run's cursor: ${problems.join("; ")}`);
}

/** No DingTalk credentials at all: fill in the local stack's defaults (variables already set win). */
function applyLocalDefaults(env: NodeJS.ProcessEnv): boolean {
  if (env.DINGTALK_APP_KEY || env.DINGTALK_APP_SECRET || env.DINGTALK_APP_SECRET_PARAMETER) return false;
  const local = localFunctionEnv(env);
  Object.assign(env, local, {
    // The archive queue of `npm start` (serverless.yml params.local).
    ARCHIVE_QUEUE_URL:
      env.ARCHIVE_QUEUE_URL ?? `${local.AWS_ENDPOINT_URL_SQS}/000000000000/${LOCAL_QUEUES.archive}`,
  });
  return true;
}

/** The configuration a backfill needs; the archive queue only when it queues. */
function loadSettings(env: Env, dryRun: boolean) {
  return loadSections({
    dingtalk: () => loadDingTalkConfig(env),
    archive: () => loadArchiveConfig(env),
    budget: () => loadBudgetConfig(env),
    queueUrl: () => {
      const url = env.ARCHIVE_QUEUE_URL?.trim();
      if (url && /^https?:\/\/\S+$/.test(url)) return url;
      if (dryRun) return "";
      throw new ConfigError([
        url ? "ARCHIVE_QUEUE_URL must be an http(s) URL" : "ARCHIVE_QUEUE_URL is required",
      ]);
    },
  });
}

const FLAGS: Record<string, string> = {
  spaceId: "--space-id",
  parentId: "--parent-id",
  unionId: "--union-id",
  recursive: "--no-recursive",
};

function sourcesOf(request: Request, env: Env, defaultUnionId: string | undefined): ArchiveSource[] {
  if (request.source) {
    const parsed = archiveSourceSchema.safeParse(request.source);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${FLAGS[String(issue.path[0])]} ${issue.message}`);
      throw new UsageError(problems.join("; "));
    }
    if (!parsed.data.unionId && !defaultUnionId) {
      throw new UsageError("--union-id is required when DINGTALK_UNION_ID is not set");
    }
    return [parsed.data];
  }
  const text = env.ARCHIVE_SOURCES?.trim();
  if (!text) throw new UsageError("give --space-id, or set ARCHIVE_SOURCES");
  const sources = parseSourcesJson(text, "ARCHIVE_SOURCES", defaultUnionId);
  if (sources.length === 0) throw new UsageError("ARCHIVE_SOURCES is empty: give --space-id");
  return sources;
}

/** Log lines as text on stderr (stdout holds only the JSON summary). */
const stderrLogger = (level: string): Logger =>
  textLogger(level, (line) => process.stderr.write(`${line}\n`));

async function main(): Promise<number> {
  const parsed = requestOrExit<Request>(() => parseRequest(process.argv.slice(2)), USAGE, usage);
  if ("exit" in parsed) return parsed.exit;
  const { request } = parsed;

  const local = applyLocalDefaults(process.env);
  const logger = stderrLogger(process.env.BACKFILL_LOG_LEVEL ?? "WARN");
  const settings = loadSettings(process.env, request.dryRun);
  let sources: ArchiveSource[] = [];
  try {
    if (!request.cursor) sources = sourcesOf(request, process.env, settings.dingtalk.defaultUnionId);
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    throw error;
  }
  if (local) logger.info(`no DingTalk credentials set: using the local stack (${settings.dingtalk.apiBase})`);

  const stopSignal = watchStopSignals((signal) =>
    logger.warn(`${signal}: stopping after the current page (again to quit at once)`),
  );

  const s3 = createS3Client(process.env);
  const sqs = createSqsClient();
  if (settings.budget.offBecause) logger.info(`no monthly call budget: ${settings.budget.offBecause}`);
  const meter = await callMeterFromConfig(settings.budget, { functionName: "backfill" });
  const state = await scheduleState(settings.budget.tableName);
  try {
    const deps = {
      dingtalk: await dingTalkClientFromConfig(settings.dingtalk, logger, meter),
      // Runs leave their start here (as the scheduled function's do): the next one lists only what changed.
      state,
      forceFull: request.full,
      s3,
      sqs,
      bucket: settings.archive.bucket,
      prefix: settings.archive.prefix,
      archiveQueueUrl: settings.queueUrl,
      defaultUnionId: settings.dingtalk.defaultUnionId,
      shouldStop: () => stopSignal() !== undefined,
      dryRun: request.dryRun,
      logger,
    };
    const run = request.cursor ? await continueRun(request.cursor, deps) : await startRun(sources, deps);
    // What this run spent of the org's monthly quota (the metered calls, by API).
    const summary = { ...run, dingtalkCalls: { total: meter.total(), ...meter.spent() } };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (summary.estimate) {
      const e = summary.estimate;
      process.stderr.write(
        `backfill --dry-run: a real run would spend about ${e.totalCalls} DingTalk call(s): ${e.listingCalls} listing + ${e.archiveCalls} archiving (${e.renames} rename(s) copied in S3 for free)\n`,
      );
    }
    return exitCode(summary, stopSignal());
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}

/** Where runs leave their start (the budget's table), loading the DynamoDB SDK only when there is one. */
async function scheduleState(table: string | undefined): Promise<ScheduleStateStore | undefined> {
  if (!table) return undefined;
  const [{ DynamoDBClient }, { dynamoScheduleState }] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("../lib/schedule/state"),
  ]);
  return dynamoScheduleState(new DynamoDBClient({}), table);
}

function exitCode(summary: RunSummary, signal: StopSignal | undefined): number {
  if (summary.status === "complete") {
    if (summary.failed > 0)
      process.stderr.write(`backfill: ${summary.failed} item(s) failed; see the warnings above\n`);
    return summary.failed > 0 ? EXIT.failed : EXIT.ok;
  }
  const reason = summary.error ? `${summary.error.code}: ${summary.error.message}` : "";
  if (summary.status === "waiting") {
    process.stderr.write(
      `backfill: ${reason}; continue after the month turns (China time) with --resume '<the cursor above>'\n`,
    );
    return EXIT.failed;
  }
  if (summary.status === "stopped" && !summary.error) {
    process.stderr.write(
      `backfill: stopped by ${signal ?? "request"}; continue with --resume '<the cursor above>'\n`,
    );
    return SIGNAL_EXIT[signal ?? "SIGINT"];
  }
  const resume = summary.cursor ? "; continue later with --resume '<the cursor above>'" : "";
  process.stderr.write(`backfill failed: ${reason}${resume}\n`);
  return EXIT.failed;
}

function usage(message: string): number {
  process.stderr.write(`backfill: ${message}\n${USAGE}\n`);
  return EXIT.usage;
}

function describe(error: unknown): string {
  if (error instanceof ConfigError || error instanceof SourcesError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`backfill failed: ${describe(error)}\n`);
    return EXIT.failed;
  })
  // Exiting explicitly ends idle keep-alive sockets of the HTTP clients instead of waiting for them.
  .then((code) => process.exit(code));
