/**
 * A stage's non-secret settings come from one reviewed file, stages/<stage>.yml, and nowhere else: a deploy
 * does not depend on the deployer's shell. serverless.yml reads them through scripts/stage-settings.cjs,
 * which calls resolveStageSettings below, so packaging or deploying a stage with a required setting missing
 * stops before CloudFormation, naming every missing or invalid one. The `local` stage (npm start) needs no
 * file: it runs against the sandbox and the emulators with the defaults.
 */
import { z } from "zod";
import { wholeNumber } from "../lib/config";
import { parseSources, SourcesError } from "../lib/schedule/sources";

/** The stage run by `npm start` / serverless-offline: settings from the local environment, no file. */
export const LOCAL_STAGE = "local";

const text = z.string().trim();
const required = text.min(1, "must not be empty");
const hostList = z
  .union([text, z.array(text)])
  .transform((hosts) => (Array.isArray(hosts) ? hosts.join(",") : hosts));

/**
 * Every setting a stage file may hold. Each has a default unless a deployed stage cannot do without it.
 * The README's configuration table lists the variable each one becomes.
 */
const stageFileSchema = z
  .object({
    region: text
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as us-east-1")
      .default("us-east-1"),
    dingtalkAppKey: required,
    /** The operator whose permissions DingTalk calls run with when a request names none. */
    dingtalkUnionId: required,
    /** unionIds a request may name (comma-separated); default: just dingtalkUnionId. */
    allowedUnionIds: z.union([text, z.array(text)]).optional(),
    dingtalkApiBase: text
      .regex(
        /^https:\/\/[^/\s]+/,
        "must be an https URL (a deployed stage never sends its secret in the clear)",
      )
      .default("https://api.dingtalk.com"),
    /** Where the nightly run archives from (JSON array of {spaceId, parentId?, ...}). */
    archiveSources: z.union([
      text.min(1, "must not be empty"),
      z.array(z.record(z.string(), z.unknown())).min(1),
    ]),
    archivePrefix: text
      .refine(
        (p) => !p.startsWith("/") && !p.split("/").includes(".."),
        "must not start with / or contain ..",
      )
      .transform((p) => (p === "" || p.endsWith("/") ? p : `${p}/`))
      .default(""),
    archiveSchedule: text
      .regex(/^(cron|rate)\(.+\)$/, "must be cron(...) or rate(...)")
      .default("cron(0 18 * * ? *)"),
    archiveScheduleEnabled: z.boolean().default(true),
    downloadAllowedHosts: hostList.default("*.dingtalk.com,*.aliyuncs.com"),
    transferPartSize: z._default(wholeNumber(5 * 1024 * 1024, 5 * 1024 * 1024 * 1024), 8 * 1024 * 1024),
    transferConcurrency: z._default(wholeNumber(1, 32), 8),
    logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR", "SILENT"]).default("INFO"),
    /** HTTP API throttling of the webhook routes: steady requests per second and burst. */
    httpRateLimit: z._default(wholeNumber(1, 10_000), 20),
    httpBurstLimit: z._default(wholeNumber(1, 5_000), 40),
    /** How long a secret read from SSM is reused before it is read again (rotation takes effect within it). */
    secretsMaxAgeSeconds: z._default(wholeNumber(0, 3600), 300),
    /** Ask DingTalk for download URLs on Alibaba Cloud's internal network (deployments inside it only). */
    dingtalkPreferIntranet: z.boolean().default(false),
    /** DingTalk's monthly API quota as a budget: metered calls per China-time month; 0 = none. */
    dingtalkMonthlyCallBudget: z._default(wholeNumber(0, 100_000_000), 5000),
    /** Of the budget, calls only send-link may use; default 10 % of it. */
    dingtalkMonthlyCallBudgetSendLinkReserve: z.optional(wholeNumber(0, 100_000_000)),
    /** A requeued archive job ends in the dead-letter queue after this many failed attempts, or this age. */
    archiveMaxAttempts: z._default(wholeNumber(1, 100), 10),
    archiveMaxAgeHours: z._default(wholeNumber(1, 24 * 30), 48),
    /** Scheduled runs list in full (reconciliation) at least this often; between, only what changed. */
    archiveFullListingDays: z._default(wholeNumber(0, 365), 7),
    /** Oldest queued archive job (seconds) before its alarm fires. */
    archiveQueueAgeAlarmSeconds: z._default(wholeNumber(60, 1_209_600), 3600),
    /** Oldest queued send-link request (seconds) before its alarm fires. */
    sendLinkQueueAgeAlarmSeconds: z._default(wholeNumber(60, 1_209_600), 600),
  })
  .strict();

export type StageFile = z.input<typeof stageFileSchema>;

/** The settings as serverless.yml uses them: every value a string or boolean, ready for the environment. */
export interface StageSettings {
  stage: string;
  region: string;
  dingtalkAppKey: string;
  dingtalkUnionId: string;
  allowedUnionIds: string;
  dingtalkApiBase: string;
  archiveSources: string;
  archivePrefix: string;
  archiveSchedule: string;
  archiveScheduleEnabled: boolean;
  downloadAllowedHosts: string;
  transferPartSize: string;
  transferConcurrency: string;
  logLevel: string;
  httpRateLimit: number;
  httpBurstLimit: number;
  secretsMaxAgeSeconds: string;
  dingtalkPreferIntranet: string;
  dingtalkMonthlyCallBudget: string;
  /** Empty: the code's default (10 % of the budget). */
  dingtalkMonthlyCallBudgetSendLinkReserve: string;
  archiveMaxAttempts: string;
  archiveMaxAgeHours: string;
  archiveFullListingDays: string;
  archiveQueueAgeAlarmSeconds: number;
  sendLinkQueueAgeAlarmSeconds: number;
}

export class StageSettingsError extends Error {
  readonly problems: string[];
  constructor(stage: string, problems: string[]) {
    super(
      `stages/${stage}.yml: ${problems.length} problem(s) with the stage's settings:\n` +
        problems.map((problem) => `  - ${problem}`).join("\n"),
    );
    this.name = "StageSettingsError";
    this.problems = problems;
  }
}

/** Stage names become parts of resource names and SSM paths: keep them short and plain. */
export function checkStageName(stage: string): string {
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(stage)) {
    throw new StageSettingsError(stage, [
      `stage name ${JSON.stringify(stage)} must be lowercase letters, digits and -, starting with a letter, at most 16 characters`,
    ]);
  }
  return stage;
}

/**
 * What the local stage runs with: the sandbox and the emulators, tuned by the same variables `npm start`
 * passes (serverless.yml's params.local supply the rest). Only this stage reads the shell.
 */
function localStageFile(env: Record<string, string | undefined>): StageFile {
  const pick = (name: string) => env[name] || undefined;
  return {
    dingtalkAppKey: "sandbox",
    dingtalkUnionId: "sandbox-union",
    archiveSources: '[{"spaceId":"sandbox-space"}]',
    archivePrefix: pick("ARCHIVE_PREFIX"),
    transferPartSize: pick("TRANSFER_PART_SIZE"),
    transferConcurrency: pick("TRANSFER_CONCURRENCY"),
    logLevel: pick("POWERTOOLS_LOG_LEVEL") as StageFile["logLevel"],
    dingtalkPreferIntranet: pick("DINGTALK_PREFER_INTRANET") === "true",
    dingtalkMonthlyCallBudget: pick("DINGTALK_MONTHLY_CALL_BUDGET"),
    dingtalkMonthlyCallBudgetSendLinkReserve: pick("DINGTALK_MONTHLY_CALL_BUDGET_SEND_LINK_RESERVE"),
    archiveMaxAttempts: pick("ARCHIVE_MAX_ATTEMPTS"),
    archiveMaxAgeHours: pick("ARCHIVE_MAX_AGE_HOURS"),
    archiveFullListingDays: pick("ARCHIVE_FULL_LISTING_DAYS"),
  };
}

/**
 * Validate a stage file (parsed YAML, or null when there is none) and return the settings serverless.yml
 * uses. Throws a StageSettingsError naming every missing, unknown or invalid setting at once.
 */
export function resolveStageSettings(
  stage: string,
  file: unknown,
  env: Record<string, string | undefined> = {},
): StageSettings {
  checkStageName(stage);
  if (stage === LOCAL_STAGE && (file === null || file === undefined)) file = localStageFile(env);
  if (file === null || file === undefined) file = {};
  if (typeof file !== "object" || Array.isArray(file)) {
    throw new StageSettingsError(stage, ["the file must be a mapping of setting: value"]);
  }
  const result = stageFileSchema.safeParse(file);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      if (issue.code === "unrecognized_keys") return `unknown setting(s) ${issue.keys.join(", ")}`;
      const name = issue.path.map(String).join(".");
      const value = (file as Record<string, unknown>)[String(issue.path[0])];
      return value === undefined ? `${name} is required` : `${name} ${issue.message}`;
    });
    throw new StageSettingsError(stage, problems);
  }
  const s = result.data;
  const sources = typeof s.archiveSources === "string" ? s.archiveSources : JSON.stringify(s.archiveSources);
  const sourceProblems = checkArchiveSources(sources, s.dingtalkUnionId);
  if (sourceProblems.length > 0) throw new StageSettingsError(stage, sourceProblems);
  const allowed = s.allowedUnionIds === undefined ? [s.dingtalkUnionId] : [s.allowedUnionIds].flat();
  return {
    stage,
    region: s.region,
    dingtalkAppKey: s.dingtalkAppKey,
    dingtalkUnionId: s.dingtalkUnionId,
    allowedUnionIds: allowed.join(","),
    dingtalkApiBase: s.dingtalkApiBase,
    archiveSources: sources,
    archivePrefix: s.archivePrefix,
    archiveSchedule: s.archiveSchedule,
    archiveScheduleEnabled: s.archiveScheduleEnabled,
    downloadAllowedHosts: s.downloadAllowedHosts,
    transferPartSize: String(s.transferPartSize),
    transferConcurrency: String(s.transferConcurrency),
    logLevel: s.logLevel,
    httpRateLimit: s.httpRateLimit,
    httpBurstLimit: s.httpBurstLimit,
    secretsMaxAgeSeconds: String(s.secretsMaxAgeSeconds),
    dingtalkPreferIntranet: String(s.dingtalkPreferIntranet),
    dingtalkMonthlyCallBudget: String(s.dingtalkMonthlyCallBudget),
    dingtalkMonthlyCallBudgetSendLinkReserve:
      s.dingtalkMonthlyCallBudgetSendLinkReserve === undefined
        ? ""
        : String(s.dingtalkMonthlyCallBudgetSendLinkReserve),
    archiveMaxAttempts: String(s.archiveMaxAttempts),
    archiveMaxAgeHours: String(s.archiveMaxAgeHours),
    archiveFullListingDays: String(s.archiveFullListingDays),
    archiveQueueAgeAlarmSeconds: s.archiveQueueAgeAlarmSeconds,
    sendLinkQueueAgeAlarmSeconds: s.sendLinkQueueAgeAlarmSeconds,
  };
}

/** The nightly run would throw on bad sources: catch them at deploy time with the same rules. */
function checkArchiveSources(json: string, defaultUnionId: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return ["archiveSources must be a JSON array of {spaceId, ...} (or a YAML list)"];
  }
  try {
    if (parseSources(parsed, "archiveSources", defaultUnionId).length === 0) {
      return ["archiveSources must list at least one source"];
    }
    return [];
  } catch (error) {
    if (error instanceof SourcesError) return error.problems;
    throw error;
  }
}
