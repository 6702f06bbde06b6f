/**
 * scripts/stages.ts: a stage's settings come from its reviewed file only; every missing, unknown or invalid
 * setting is named at once (serverless.yml stops before CloudFormation with this message).
 */
import { describe, expect, it } from "vitest";
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
});
