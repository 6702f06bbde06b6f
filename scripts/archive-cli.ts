/**
 * `npm run archive -- --space-id S --dentry-id D [--union-id U] [--version N]`
 *
 * Archives one DingTalk file into S3 through the same lib code as the Lambda (lib/archive's archiveFile).
 * - Configuration from the environment (lib/config). With no DingTalk credentials set, the local stack of
 *   `npm start` is the default: the sandbox on 127.0.0.1:4010, fauxqs on 127.0.0.1:4566 and dynalite on
 *   127.0.0.1:4569 (scripts/local-env.ts), where the monthly DingTalk call budget is counted (lib/budget).
 * - stdout: exactly one JSON line at the end (status, bucket, key, size, versionId, etag, checksum, seconds,
 *   dingtalkCalls: the metered DingTalk calls spent, by API).
 *   stderr: a progress bar when it is a terminal, warnings, and the reason of a failure.
 * - Exit: 0 archived or skipped; 1 failed; 2 bad usage; 130/143 stopped by SIGINT/SIGTERM after saving the
 *   checkpoint (the same command resumes without sending the completed parts again).
 * - Checkpoints: $ARCHIVE_CHECKPOINT_DIR, default .tmp/checkpoints.
 * - ARCHIVE_REPORT_RSS=1 prints the process's peak RSS on stderr at the end. Measured archiving 1 GiB
 *   (`node --import tsx test/archive/measure/cli-rss.ts 1024`): ~174 MiB, flat in the file size. `npm run archive`
 *   passes --max-semi-space-size=2: without it V8 grows its young generation to ~240 MiB for no speed gain.
 */
import {
  ArchiveError,
  type ArchiveProgress,
  type ArchiveResult,
  archiveFile,
  archiveRequestSchema,
  formatBytes,
  formatProgress,
} from "../lib/archive";
import { createS3Client } from "../lib/aws/s3";
// The modules, not lib/budget's index: the DynamoDB SDK loads only when a budget is configured.
import { loadBudgetConfig } from "../lib/budget/config";
import { callMeterFromConfig } from "../lib/budget/from-config";
import type { CallMeter } from "../lib/budget/meter";
import {
  ConfigError,
  loadArchiveConfig,
  loadDingTalkConfig,
  loadSections,
  loadTransferConfig,
} from "../lib/config";
import { dingTalkClientFromConfig } from "../lib/dingtalk";
import type { Logger } from "../lib/logging";
import { fileCheckpointStore } from "../lib/transfer";
import {
  EXIT,
  parseFlags,
  requestOrExit,
  SIGNAL_EXIT,
  textLogger,
  UsageError,
  watchStopSignals,
} from "./cli";
import { localFunctionEnv } from "./local-env";

const USAGE = "usage: npm run archive -- --space-id S --dentry-id D [--union-id U] [--version N]";

function parseRequest(argv: string[]) {
  const values = parseFlags(argv, {
    "space-id": { type: "string" },
    "dentry-id": { type: "string" },
    "union-id": { type: "string" },
    version: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help" as const;
  const missing = ["space-id", "dentry-id"].filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(" and ")}`);
  const rawVersion = values.version as string | undefined;
  if (rawVersion !== undefined && !/^[1-9]\d*$/.test(rawVersion)) {
    throw new UsageError(`--version must be a whole number ≥ 1, got ${JSON.stringify(rawVersion)}`);
  }
  const parsed = archiveRequestSchema.safeParse({
    spaceId: values["space-id"],
    dentryId: values["dentry-id"],
    unionId: values["union-id"],
    version: rawVersion === undefined ? undefined : Number(rawVersion),
  });
  if (!parsed.success) {
    const flag = {
      spaceId: "--space-id",
      dentryId: "--dentry-id",
      unionId: "--union-id",
      version: "--version",
    };
    const problems = parsed.error.issues.map(
      (issue) =>
        `${flag[String(issue.path[0]) as keyof typeof flag] ?? issue.path.join(".")} ${issue.message}`,
    );
    throw new UsageError(problems.join("; "));
  }
  return parsed.data;
}

/** No DingTalk credentials at all: fill in the local stack's defaults (variables already set win). */
function applyLocalDefaults(env: NodeJS.ProcessEnv): boolean {
  if (env.DINGTALK_APP_KEY || env.DINGTALK_APP_SECRET || env.DINGTALK_APP_SECRET_PARAMETER) return false;
  Object.assign(env, localFunctionEnv(env));
  return true;
}

/** Progress bar and log lines share stderr: a log line first clears the bar, which is redrawn on the next update. */
class Terminal {
  private barShown = false;
  private lastDraw = 0;

  constructor(private readonly tty: boolean) {}

  progress(p: ArchiveProgress): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && p.partsDone < p.partsTotal) return;
    this.lastDraw = now;
    // The text after the bar takes ~55 columns; the bar gets what is left (10-30), the line never wraps.
    const columns = process.stderr.columns || 80;
    const line = formatProgress(p, p.size, Math.max(10, Math.min(30, columns - 58)));
    process.stderr.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
    this.barShown = true;
  }

  line(text: string): void {
    this.clear();
    process.stderr.write(`${text}\n`);
  }

  clear(): void {
    if (this.barShown) process.stderr.write("\r\x1b[K");
    this.barShown = false;
  }
}

/** The client's and the engine's log lines, as text on stderr (stdout holds only the JSON result). */
const stderrLogger = (term: Terminal, level: string): Logger => textLogger(level, (line) => term.line(line));

function jsonLine(result: ArchiveResult, meter: CallMeter): string {
  const common = {
    status: result.status,
    bucket: result.bucket,
    key: result.key,
    size: result.size,
    version: result.version,
    seconds: Math.round(result.seconds * 1000) / 1000,
    // The metered DingTalk calls this run spent (the monthly quota), by API.
    dingtalkCalls: { total: meter.total(), ...meter.spent() },
  };
  switch (result.status) {
    case "archived":
      return JSON.stringify({
        ...common,
        versionId: result.versionId ?? null,
        etag: result.etag,
        checksum: result.checksum ?? null,
        resumedParts: result.resumedParts,
        bytesResent: result.bytesResent,
        ...(result.copiedFrom ? { copiedFrom: result.copiedFrom } : {}),
      });
    case "skipped":
      return JSON.stringify({
        ...common,
        versionId: result.versionId ?? null,
        etag: result.etag ?? null,
        checksum: result.checksum ?? null,
      });
    case "paused":
      return JSON.stringify({
        ...common,
        partsDone: result.partsDone,
        partsTotal: result.partsTotal,
        bytesDone: result.bytesDone,
      });
  }
}

async function main(): Promise<number> {
  const parsed = requestOrExit(
    () => parseRequest(process.argv.slice(2)),
    USAGE,
    (message) => {
      process.stderr.write(`archive: ${message}\n${USAGE}\n`);
      return EXIT.usage;
    },
  );
  if ("exit" in parsed) return parsed.exit;
  const { request } = parsed;

  const term = new Terminal(Boolean(process.stderr.isTTY));
  const local = applyLocalDefaults(process.env);
  const logger = stderrLogger(term, process.env.ARCHIVE_LOG_LEVEL ?? "WARN");
  const settings = loadSections({
    dingtalk: () => loadDingTalkConfig(process.env),
    archive: () => loadArchiveConfig(process.env),
    transfer: () => loadTransferConfig(process.env),
    budget: () => loadBudgetConfig(process.env),
  });
  if (local) {
    term.line(
      `archive: no DingTalk credentials set: using the local stack (DingTalk sandbox ${settings.dingtalk.apiBase}, ` +
        `S3 ${process.env.AWS_ENDPOINT_URL_S3}, bucket ${settings.archive.bucket})`,
    );
  }
  if (settings.budget.offBecause) logger.info(`no monthly call budget: ${settings.budget.offBecause}`);
  const meter = await callMeterFromConfig(settings.budget, { functionName: "archive-cli" });
  const dingtalk = await dingTalkClientFromConfig(settings.dingtalk, logger, meter);
  const s3 = createS3Client();

  // First signal: start no new part, let the parts in flight finish, save the checkpoint. Second: leave now
  // (the file checkpoint is written after every part, so at most the parts in flight are lost).
  const stopSignal = watchStopSignals((signal) =>
    term.line(`${signal}: finishing the parts in flight and saving the checkpoint (again to quit at once)`),
  );

  try {
    const result = await archiveFile(request, {
      dingtalk,
      s3,
      archive: settings.archive,
      transfer: settings.transfer,
      checkpoints: fileCheckpointStore(process.env.ARCHIVE_CHECKPOINT_DIR || ".tmp/checkpoints"),
      defaultUnionId: settings.dingtalk.defaultUnionId,
      shouldStop: () => stopSignal() !== undefined,
      onProgress: (p) => term.progress(p),
      logger,
    });
    term.clear();
    process.stdout.write(`${jsonLine(result, meter)}\n`);
    if (result.status === "paused") {
      process.stderr.write(
        `archive: stopped by ${stopSignal() ?? "request"} after ${result.partsDone} of ${result.partsTotal} parts ` +
          `(${formatBytes(result.bytesDone)}); the checkpoint is saved: run the same command again to resume\n`,
      );
      return SIGNAL_EXIT[stopSignal() ?? "SIGINT"];
    }
    return EXIT.ok;
  } catch (error) {
    term.clear();
    process.stderr.write(
      `archive failed: ${describe(error)} (${meter.total()} metered DingTalk call(s) spent)\n`,
    );
    return EXIT.failed;
  } finally {
    s3.destroy();
  }
}

function describe(error: unknown): string {
  if (error instanceof ArchiveError) {
    const facts = [`code ${error.code}`];
    if (error.requestId) facts.push(`DingTalk request id ${error.requestId}`);
    if (error.retryable) facts.push("may succeed if tried again later");
    return `${error.message} (${facts.join("; ")})`;
  }
  if (error instanceof ConfigError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function reportRss(): void {
  if (process.env.ARCHIVE_REPORT_RSS === "1") {
    // maxRSS is in KiB.
    process.stderr.write(`maxRSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB\n`);
  }
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`archive failed: ${describe(error)}\n`);
    return EXIT.failed;
  })
  .then((code) => {
    reportRss();
    // Writes to pipes and files are synchronous on Linux and macOS, so nothing is lost by exiting now; exiting
    // explicitly ends idle keep-alive sockets of the HTTP clients instead of waiting for them.
    process.exit(code);
  });
