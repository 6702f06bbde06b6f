/**
 * A stage's non-secret settings come from one reviewed file, stages/<stage>.yml, and nowhere else: a deploy
 * does not depend on the deployer's shell. serverless.yml reads them through scripts/stage-settings.cjs,
 * which calls resolveStageSettings below, so packaging or deploying a stage with a required setting missing
 * stops before CloudFormation, naming every missing or invalid one. A setting that becomes a function's
 * variable is judged by the functions' own loaders (lib/config and the like), run here on the variables the
 * file becomes: a stage that resolves is one no function refuses at cold start. The `local` stage
 * (npm start) needs no file: it runs against the sandbox and the emulators with the defaults. Runs at
 * package/deploy time only; nothing in lib/ or functions/ imports scripts/.
 */
import { z } from "zod";
import { loadArchiveIntakeSettings } from "../lib/archive-intake/config";
import { loadArchiveSettings } from "../lib/archive-worker/config";
import { ConfigError, type Env, keyPrefix, wholeNumber } from "../lib/config";
import { loadDingTalkEventsSettings } from "../lib/dingtalk-events/config";
import { loadScheduleSettings } from "../lib/schedule/config";
import { loadSendLinkSettings } from "../lib/send-link/config";

/** The stage run by `npm start` / serverless-offline: settings from the local environment, no file. */
export const LOCAL_STAGE = "local";

const text = z.string().trim();
const required = text.min(1, "must not be empty");
/** A YAML list or a comma-separated text; the runtime's hostList / unionIdList check the items. */
const list = z
  .union([text, z.array(text)])
  .transform((items) => (Array.isArray(items) ? items.join(",") : items));
/**
 * A number that becomes a variable: YAML gives a number or text; `true` or an empty key (null) is refused
 * here, where wholeNumber's coercion would make them 1 and 0. Its range is the runtime loader's (below).
 */
const setting = z.union([z.number(), z.string()], { error: "must be a number" });
/** A number only the template uses (throttling, alarms): no runtime loader checks it, so its range is here. */
const templateNumber = (min: number, max: number, fallback: number) =>
  // wholeNumber takes `unknown` (it coerces): `setting` narrows what reaches it to a number or text.
  setting.pipe(wholeNumber(min, max) as z.core.$ZodType<number, string | number>).default(fallback);

/**
 * Every setting a stage file may hold. Each has a default unless a deployed stage cannot do without it.
 * The README's configuration table lists the variable each one becomes. Settings that become a function's
 * variable are only shaped here: the functions' own loaders judge them (runtimeProblems), so a stage file
 * that resolves is one every function accepts at cold start. The rules here are those of a deployed stage
 * beyond the runtime's: https only, a region, a schedule, required operator and sources.
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
    allowedUnionIds: list.optional(),
    dingtalkApiBase: text
      .regex(
        /^https:\/\/[^/\s]+/,
        "must be an https URL (a deployed stage never sends its secret in the clear)",
      )
      .optional(),
    /** Where the nightly run archives from (JSON array of {spaceId, parentId?, ...}). */
    archiveSources: z.union([
      text.min(1, "must not be empty"),
      z.array(z.record(z.string(), z.unknown())).min(1),
    ]),
    // The runtime's ARCHIVE_PREFIX rule: the template also builds IAM resources and lifecycle rules from it.
    archivePrefix: keyPrefix,
    archiveSchedule: text
      .regex(/^(cron|rate)\(.+\)$/, "must be cron(...) or rate(...)")
      .default("cron(0 18 * * ? *)"),
    archiveScheduleEnabled: z.boolean().default(true),
    downloadAllowedHosts: list.optional(),
    transferPartSize: setting.optional(),
    transferConcurrency: setting.optional(),
    logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR", "SILENT"]).default("INFO"),
    /** HTTP API throttling of the webhook routes: steady requests per second and burst. */
    httpRateLimit: templateNumber(1, 10_000, 20),
    httpBurstLimit: templateNumber(1, 5_000, 40),
    /** How long a secret read from SSM is reused before it is read again (rotation takes effect within it). */
    secretsMaxAgeSeconds: setting.optional(),
    /** Ask DingTalk for download URLs on Alibaba Cloud's internal network (deployments inside it only). */
    dingtalkPreferIntranet: z.boolean().default(false),
    /** DingTalk's monthly API quota as a budget: metered calls per China-time month; 0 = none. */
    dingtalkMonthlyCallBudget: setting.optional(),
    /** Of the budget, calls only send-link may use; default 10 % of it. */
    dingtalkMonthlyCallBudgetSendLinkReserve: setting.optional(),
    /** A requeued archive job ends in the dead-letter queue after this many failed attempts, or this age. */
    archiveMaxAttempts: setting.optional(),
    archiveMaxAgeHours: setting.optional(),
    /** Scheduled runs list in full (reconciliation) at least this often; between, only what changed. */
    archiveFullListingDays: setting.optional(),
    /** Oldest queued archive job (seconds) before its alarm fires. */
    archiveQueueAgeAlarmSeconds: templateNumber(60, 1_209_600, 3600),
    /** Oldest queued send-link request (seconds) before its alarm fires. */
    sendLinkQueueAgeAlarmSeconds: templateNumber(60, 1_209_600, 600),
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
  const variables = stageVariables(s, sources);
  const problems: string[] = [];
  const loaded = runtimeSettings(variables, problems);
  if (loaded === undefined) throw new StageSettingsError(stage, problems);
  const { dingtalk, archive, transfer, queue, budget } = loaded.archive;
  return {
    stage,
    region: s.region,
    dingtalkAppKey: dingtalk.appKey,
    dingtalkUnionId: s.dingtalkUnionId,
    allowedUnionIds: dingtalk.allowedUnionIds.join(","),
    dingtalkApiBase: dingtalk.apiBase,
    archiveSources: sources,
    archivePrefix: archive.prefix,
    archiveSchedule: s.archiveSchedule,
    archiveScheduleEnabled: s.archiveScheduleEnabled,
    downloadAllowedHosts: transfer.downloadAllowedHosts.join(","),
    transferPartSize: String(transfer.partSize),
    transferConcurrency: String(transfer.concurrency),
    logLevel: s.logLevel,
    httpRateLimit: s.httpRateLimit,
    httpBurstLimit: s.httpBurstLimit,
    // The app secret's source is an SSM parameter here (the placeholder), so it carries the max age.
    secretsMaxAgeSeconds: String(dingtalk.appSecret.kind === "ssm" ? dingtalk.appSecret.maxAgeSeconds : ""),
    dingtalkPreferIntranet: String(dingtalk.preferIntranet),
    dingtalkMonthlyCallBudget: String(budget.monthlyLimit),
    dingtalkMonthlyCallBudgetSendLinkReserve: variables.DINGTALK_MONTHLY_CALL_BUDGET_SEND_LINK_RESERVE.value,
    archiveMaxAttempts: String(queue.requeueLimits.maxAttempts),
    archiveMaxAgeHours: String(queue.requeueLimits.maxAgeMs / 3_600_000),
    archiveFullListingDays: String(loaded.schedule.schedule.fullListingEveryDays),
    archiveQueueAgeAlarmSeconds: s.archiveQueueAgeAlarmSeconds,
    sendLinkQueueAgeAlarmSeconds: s.sendLinkQueueAgeAlarmSeconds,
  };
}

type ParsedStageFile = z.output<typeof stageFileSchema>;

/** A variable serverless.yml sets: its value, and the stage setting it comes from (undefined: a placeholder). */
interface Variable {
  value: string;
  setting?: string;
}

const given = (value: string | number | undefined) => (value === undefined ? "" : String(value));

/**
 * The variables the functions get from this stage file (serverless.yml's `environment:` blocks, every
 * function's together), each with the setting it comes from. "" is unset: the loader's default applies, as
 * it does for the "" the template passes. What a stage file does not hold (queues, bucket, table, the
 * secrets' SSM names) gets an obvious placeholder of the right form.
 */
function stageVariables(s: ParsedStageFile, sources: string) {
  const placeholder = (value: string): Variable => ({ value });
  const ssm = placeholder("/dingtalk-file-bridge/stage/placeholder");
  const queue = placeholder("https://sqs.us-east-1.amazonaws.com/000000000000/placeholder");
  return {
    POWERTOOLS_LOG_LEVEL: { value: s.logLevel, setting: "logLevel" },
    DINGTALK_API_BASE: { value: given(s.dingtalkApiBase), setting: "dingtalkApiBase" },
    DINGTALK_APP_KEY: { value: s.dingtalkAppKey, setting: "dingtalkAppKey" },
    DINGTALK_UNION_ID: { value: s.dingtalkUnionId, setting: "dingtalkUnionId" },
    // Unless the file lists them, the allowed ids are just dingtalkUnionId: a message should say so.
    ALLOWED_UNION_IDS:
      s.allowedUnionIds === undefined
        ? { value: s.dingtalkUnionId, setting: "allowedUnionIds (by default dingtalkUnionId)" }
        : { value: s.allowedUnionIds, setting: "allowedUnionIds" },
    DINGTALK_PREFER_INTRANET: { value: String(s.dingtalkPreferIntranet), setting: "dingtalkPreferIntranet" },
    DINGTALK_APP_SECRET_PARAMETER: ssm,
    SECRETS_MAX_AGE_SECONDS: { value: given(s.secretsMaxAgeSeconds), setting: "secretsMaxAgeSeconds" },
    IDEMPOTENCY_TABLE: placeholder("placeholder-idempotency"),
    DINGTALK_MONTHLY_CALL_BUDGET: {
      value: given(s.dingtalkMonthlyCallBudget),
      setting: "dingtalkMonthlyCallBudget",
    },
    DINGTALK_MONTHLY_CALL_BUDGET_SEND_LINK_RESERVE: {
      value: given(s.dingtalkMonthlyCallBudgetSendLinkReserve),
      setting: "dingtalkMonthlyCallBudgetSendLinkReserve",
    },
    SEND_LINK_DLQ_URL: queue,
    WEBHOOK_SECRET_SEND_LINK_PARAMETER: ssm,
    WEBHOOK_SECRET_SEND_LINK_PREVIOUS_PARAMETER: ssm,
    WEBHOOK_SECRET_ARCHIVE_PARAMETER: ssm,
    WEBHOOK_SECRET_ARCHIVE_PREVIOUS_PARAMETER: ssm,
    ARCHIVE_QUEUE_URL: queue,
    ARCHIVE_DLQ_URL: queue,
    ARCHIVE_SCAN_QUEUE_URL: queue,
    ARCHIVE_BUCKET: placeholder("placeholder-archive-bucket"),
    ARCHIVE_PREFIX: { value: s.archivePrefix, setting: "archivePrefix" },
    ARCHIVE_MAX_ATTEMPTS: { value: given(s.archiveMaxAttempts), setting: "archiveMaxAttempts" },
    ARCHIVE_MAX_AGE_HOURS: { value: given(s.archiveMaxAgeHours), setting: "archiveMaxAgeHours" },
    TRANSFER_PART_SIZE: { value: given(s.transferPartSize), setting: "transferPartSize" },
    TRANSFER_CONCURRENCY: { value: given(s.transferConcurrency), setting: "transferConcurrency" },
    DOWNLOAD_ALLOWED_HOSTS: { value: given(s.downloadAllowedHosts), setting: "downloadAllowedHosts" },
    DINGTALK_EVENT_TOKEN_PARAMETER: ssm,
    DINGTALK_EVENT_AES_KEY_PARAMETER: ssm,
    ARCHIVE_SOURCES: { value: sources, setting: "archiveSources" },
    ARCHIVE_FULL_LISTING_DAYS: { value: given(s.archiveFullListingDays), setting: "archiveFullListingDays" },
  } satisfies Record<string, Variable>;
}

/**
 * Every deployed function's own settings loader, run on the variables it would get: what any of them would
 * refuse at cold start is refused now, its problems (which name variables) reworded to name the settings.
 * Returns undefined when there were problems (recorded in `problems`).
 */
function runtimeSettings(variables: Record<string, Variable>, problems: string[]) {
  const env: Env = Object.fromEntries(Object.entries(variables).map(([name, { value }]) => [name, value]));
  const found: string[] = [];
  const run = <T>(load: (env: Env) => T): T | undefined => {
    try {
      return load(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      found.push(...error.problems);
      return undefined;
    }
  };
  const loaded = {
    sendLink: run(loadSendLinkSettings),
    archiveIntake: run(loadArchiveIntakeSettings),
    archive: run(loadArchiveSettings),
    dingtalkEvents: run(loadDingTalkEventsSettings),
    schedule: run(loadScheduleSettings),
  };
  // A deployed stage's nightly run needs something to archive (the runtime accepts none: events bring theirs).
  if (loaded.schedule?.schedule.sources.length === 0)
    found.push("ARCHIVE_SOURCES must list at least one source");
  // Whole names only (\b: "_" is a word character), so DINGTALK_MONTHLY_CALL_BUDGET leaves ..._RESERVE alone.
  const named = Object.entries(variables).flatMap(([name, { setting }]) =>
    setting === undefined ? [] : [[name, setting] as const],
  );
  const reworded = found.map((problem) =>
    named.reduce((text, [name, setting]) => text.replace(new RegExp(`\\b${name}\\b`, "g"), setting), problem),
  );
  // Several functions load the same section (every one of them the DingTalk one): report each problem once.
  problems.push(...new Set(reworded));
  const { sendLink, archiveIntake, archive, dingtalkEvents, schedule } = loaded;
  if (problems.length > 0 || !sendLink || !archiveIntake || !archive || !dingtalkEvents || !schedule) {
    return undefined;
  }
  return { sendLink, archiveIntake, archive, dingtalkEvents, schedule };
}
