/**
 * scripts/stages.ts: a stage's settings come from its reviewed file only; every missing, unknown or invalid
 * setting is named at once (serverless.yml stops before CloudFormation with this message).
 */
import { describe, expect, it } from "vitest";
import { loadArchiveIntakeSettings } from "../lib/archive-intake/config";
import { loadArchiveSettings } from "../lib/archive-worker/config";
import { loadDingTalkEventsSettings } from "../lib/dingtalk-events/config";
import { loadScheduleSettings } from "../lib/schedule/config";
import { loadSendLinkSettings } from "../lib/send-link/config";
import { resolveStageSettings, StageSettingsError } from "../scripts/stages";

const complete = {
  dingtalkAppKey: "dingexamplednmwm8rw2q7",
  dingtalkUnionId: "ZsGGk1JnRAiPDsm8WQiSYrAiEiE",
  archiveSources: [{ spaceId: "20934782910" }],
};

const problemsOf = (stage: string, file: unknown) => {
  try {
    resolveStageSettings(stage, file);
  } catch (error) {
    if (error instanceof StageSettingsError) return error.problems;
    throw error;
  }
  return [];
};

describe("stage settings", () => {
  it("names every missing required setting of a deployed stage at once (no file at all, or an empty one)", () => {
    const missing = [
      "dingtalkAppKey is required",
      "dingtalkUnionId is required",
      "archiveSources is required",
    ];
    expect(problemsOf("prod", null)).toEqual(missing);
    expect(problemsOf("prod", {})).toEqual(missing);
    expect(() => resolveStageSettings("prod", null)).toThrow(/stages\/prod\.yml: 3 problem/);
  });

  it("names unknown settings (a typo must not silently fall back to a default) and invalid ones", () => {
    expect(
      problemsOf("prod", {
        ...complete,
        archivePrefx: "x/",
        dingtalkApiBase: "http://api.dingtalk.com",
        httpRateLimit: 0,
        archiveSources: [{ parentId: "0" }],
      }),
    ).toEqual([
      expect.stringMatching(/^dingtalkApiBase must be an https URL/),
      "httpRateLimit must be at least 1",
      "unknown setting(s) archivePrefx",
    ]);
    expect(problemsOf("prod", { ...complete, archiveSources: [{ parentId: "0" }] })).toEqual([
      expect.stringMatching(/^archiveSources\[0\]\.spaceId/),
    ]);
    expect(problemsOf("prod", ["not", "a", "mapping"])).toEqual([
      "the file must be a mapping of setting: value",
    ]);
  });

  it("fills defaults and turns lists into the variables' comma and JSON forms", () => {
    const settings = resolveStageSettings("prod", { ...complete, archivePrefix: "archive/prod" });
    expect(settings).toMatchObject({
      region: "us-east-1",
      dingtalkApiBase: "https://api.dingtalk.com",
      allowedUnionIds: complete.dingtalkUnionId,
      archiveSources: '[{"spaceId":"20934782910"}]',
      archivePrefix: "archive/prod/",
      archiveSchedule: "cron(0 18 * * ? *)",
      archiveScheduleEnabled: true,
      downloadAllowedHosts: "*.dingtalk.com,*.aliyuncs.com",
      httpRateLimit: 20,
      httpBurstLimit: 40,
      secretsMaxAgeSeconds: "300",
    });
    expect(
      resolveStageSettings("prod", {
        ...complete,
        allowedUnionIds: ["a1b2c3d4e5f6g7h8i9j0", "ZsGGk1JnRAiPDsm8WQiSYrAiEiE"],
      }).allowedUnionIds,
    ).toBe("a1b2c3d4e5f6g7h8i9j0,ZsGGk1JnRAiPDsm8WQiSYrAiEiE");
  });

  it("refuses stage names that cannot be part of resource names and SSM paths", () => {
    expect(problemsOf("Prod", complete)).toEqual([
      expect.stringMatching(/stage name "Prod" must be lowercase/),
    ]);
    expect(problemsOf("../x", complete)).toHaveLength(1);
  });

  it("runs the local stage without a file, from the variables npm start passes", () => {
    const local = resolveStageSettings("local", null, { ARCHIVE_PREFIX: "loc", TRANSFER_CONCURRENCY: "3" });
    expect(local).toMatchObject({
      archivePrefix: "loc/",
      transferConcurrency: "3",
      dingtalkAppKey: "sandbox",
    });
    // A deployed stage never reads the shell.
    expect(problemsOf("prod", null)).toHaveLength(3);
  });

  // Each of these once resolved, deployed, and then failed every function (or the one that reads it) at
  // cold start: the functions' own loaders now judge the settings at resolve time, naming the setting.
  it("refuses a secretsMaxAgeSeconds the functions refuse (0)", () => {
    expect(problemsOf("prod", { ...complete, secretsMaxAgeSeconds: 0 })).toEqual([
      'secretsMaxAgeSeconds must be at least 1 (got "0")',
    ]);
  });

  it("refuses downloadAllowedHosts the archive worker refuses (a URL, not a host)", () => {
    expect(problemsOf("prod", { ...complete, downloadAllowedHosts: ["https://x.com/"] })).toEqual([
      'downloadAllowedHosts must be a host[:port] or *.suffix list (got "https://x.com/")',
    ]);
  });

  it("refuses a send-link reserve that is not less than the budget (given, or the default 5000)", () => {
    expect(
      problemsOf("prod", {
        ...complete,
        dingtalkMonthlyCallBudget: 100,
        dingtalkMonthlyCallBudgetSendLinkReserve: 100,
      }),
    ).toEqual([
      "dingtalkMonthlyCallBudgetSendLinkReserve (100) must be less than dingtalkMonthlyCallBudget (100)",
    ]);
    expect(problemsOf("prod", { ...complete, dingtalkMonthlyCallBudgetSendLinkReserve: 5000 })).toEqual([
      "dingtalkMonthlyCallBudgetSendLinkReserve (5000) must be less than dingtalkMonthlyCallBudget (5000)",
    ]);
  });

  it("checks union ids as the functions do (dingTalkId), and sources' union ids against the allowed ones", () => {
    expect(
      problemsOf("prod", { ...complete, allowedUnionIds: [complete.dingtalkUnionId, "a\u0001b"] }),
    ).toEqual([expect.stringMatching(/^allowedUnionIds must not contain control characters/)]);
    // Without allowedUnionIds the allowed ids are dingtalkUnionId alone: the message says which setting.
    expect(problemsOf("prod", { ...complete, dingtalkUnionId: "." })).toEqual([
      expect.stringMatching(/^allowedUnionIds \(by default dingtalkUnionId\) must not be "\." or "\.\."/),
    ]);
    expect(
      problemsOf("prod", { ...complete, archiveSources: [{ spaceId: "1", unionId: "someoneElse" }] }),
    ).toEqual(["archiveSources[0].unionId is not in allowedUnionIds (by default dingtalkUnionId)"]);
  });

  it("refuses YAML true or an empty key (null) for a number instead of coercing them to 1 and 0", () => {
    expect(
      problemsOf("prod", {
        ...complete,
        transferConcurrency: true,
        secretsMaxAgeSeconds: null,
        httpRateLimit: true,
      }),
    ).toEqual([
      "transferConcurrency must be a number",
      "httpRateLimit must be a number",
      "secretsMaxAgeSeconds must be a number",
    ]);
  });

  it("gives a stage file that resolves variables every deployed function's loader accepts", () => {
    // stages/dev.yml's settings (no YAML parser among the dependencies), the minimum, and a few more.
    const dev = {
      ...complete,
      region: "us-east-1",
      archiveSources: [{ spaceId: "20934782910", parentId: "0" }],
      allowedUnionIds: [complete.dingtalkUnionId],
      archivePrefix: "dingtalk/",
      archiveSchedule: "cron(0 18 * * ? *)",
      archiveScheduleEnabled: true,
      httpRateLimit: 20,
      httpBurstLimit: 40,
      secretsMaxAgeSeconds: 300,
      logLevel: "INFO",
    };
    const more = {
      ...complete,
      transferConcurrency: "16",
      archivePrefix: "a/b",
      dingtalkMonthlyCallBudget: 0,
    };
    for (const stageFile of [dev, complete, more]) {
      const settings = resolveStageSettings("prod", stageFile);
      // serverless.yml's environment blocks, every function's together; placeholders for the resources.
      const env = {
        DINGTALK_API_BASE: settings.dingtalkApiBase,
        DINGTALK_APP_KEY: settings.dingtalkAppKey,
        DINGTALK_UNION_ID: settings.dingtalkUnionId,
        ALLOWED_UNION_IDS: settings.allowedUnionIds,
        DINGTALK_PREFER_INTRANET: settings.dingtalkPreferIntranet,
        DINGTALK_APP_SECRET_PARAMETER: "/x/app-secret",
        SECRETS_MAX_AGE_SECONDS: settings.secretsMaxAgeSeconds,
        IDEMPOTENCY_TABLE: "table",
        DINGTALK_MONTHLY_CALL_BUDGET: settings.dingtalkMonthlyCallBudget,
        DINGTALK_MONTHLY_CALL_BUDGET_SEND_LINK_RESERVE: settings.dingtalkMonthlyCallBudgetSendLinkReserve,
        SEND_LINK_DLQ_URL: "https://queue.example/dlq",
        WEBHOOK_SECRET_SEND_LINK_PARAMETER: "/x/send-link",
        WEBHOOK_SECRET_ARCHIVE_PARAMETER: "/x/archive",
        ARCHIVE_QUEUE_URL: "https://queue.example/archive",
        ARCHIVE_DLQ_URL: "https://queue.example/archive-dlq",
        ARCHIVE_SCAN_QUEUE_URL: "https://queue.example/scan",
        ARCHIVE_BUCKET: "archive-bucket",
        ARCHIVE_PREFIX: settings.archivePrefix,
        ARCHIVE_MAX_ATTEMPTS: settings.archiveMaxAttempts,
        ARCHIVE_MAX_AGE_HOURS: settings.archiveMaxAgeHours,
        TRANSFER_PART_SIZE: settings.transferPartSize,
        TRANSFER_CONCURRENCY: settings.transferConcurrency,
        DOWNLOAD_ALLOWED_HOSTS: settings.downloadAllowedHosts,
        DINGTALK_EVENT_TOKEN_PARAMETER: "/x/token",
        DINGTALK_EVENT_AES_KEY_PARAMETER: "/x/aes-key",
        ARCHIVE_SOURCES: settings.archiveSources,
        ARCHIVE_FULL_LISTING_DAYS: settings.archiveFullListingDays,
      };
      for (const load of [
        loadSendLinkSettings,
        loadArchiveIntakeSettings,
        loadArchiveSettings,
        loadDingTalkEventsSettings,
        loadScheduleSettings,
      ]) {
        expect(() => load(env)).not.toThrow();
      }
      expect(loadArchiveSettings(env).archive.prefix).toBe(settings.archivePrefix);
    }
  });
});
