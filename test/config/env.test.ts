import { describe, expect, it } from "vitest";
import {
  ConfigError,
  loadArchiveConfig,
  loadDingTalkConfig,
  loadSections,
  loadTransferConfig,
  loadWebhookConfig,
} from "../../lib/config";

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadDingTalkConfig", () => {
  it("reads the variables, defaulting the API base to DingTalk's public host", () => {
    const config = loadDingTalkConfig({
      DINGTALK_APP_KEY: "k",
      DINGTALK_APP_SECRET: "s",
      DINGTALK_UNION_ID: "u",
    });
    expect(config).toEqual({
      apiBase: "https://api.dingtalk.com",
      appKey: "k",
      appSecret: { kind: "value", value: "s" },
      defaultUnionId: "u",
      timeoutMs: 10_000,
      preferIntranet: false,
    });
  });

  it("DINGTALK_PREFER_INTRANET=true asks for intranet URLs; anything but true/false is named", () => {
    const base = { DINGTALK_APP_KEY: "k", DINGTALK_APP_SECRET: "s" };
    expect(loadDingTalkConfig({ ...base, DINGTALK_PREFER_INTRANET: "true" }).preferIntranet).toBe(true);
    expect(loadDingTalkConfig({ ...base, DINGTALK_PREFER_INTRANET: "false" }).preferIntranet).toBe(false);
    expect(problemsOf(() => loadDingTalkConfig({ ...base, DINGTALK_PREFER_INTRANET: "yes" }))).toEqual([
      'DINGTALK_PREFER_INTRANET must be true or false (got "yes")',
    ]);
    expect(problemsOf(() => loadDingTalkConfig({ ...base, DINGTALK_TIMEOUT_MS: "5" }))).toEqual([
      'DINGTALK_TIMEOUT_MS must be at least 100 (got "5")',
    ]);
  });

  it("strips a trailing slash from the API base", () => {
    const config = loadDingTalkConfig({
      DINGTALK_API_BASE: "http://127.0.0.1:4010/",
      DINGTALK_APP_KEY: "k",
      DINGTALK_APP_SECRET: "s",
    });
    expect(config.apiBase).toBe("http://127.0.0.1:4010");
  });

  it("names every missing or bad variable at once", () => {
    const problems = problemsOf(() => loadDingTalkConfig({ DINGTALK_API_BASE: "ftp://x" }));
    expect(problems.join("\n")).toMatch(/DINGTALK_API_BASE must be an http\(s\) URL/);
    expect(problems.join("\n")).toMatch(/DINGTALK_APP_KEY is required/);
    expect(problems.join("\n")).toMatch(
      /DINGTALK_APP_SECRET \(or DINGTALK_APP_SECRET_PARAMETER\) is required/,
    );
  });

  it("takes the secret from SSM or Secrets Manager by reference", () => {
    expect(
      loadDingTalkConfig({ DINGTALK_APP_KEY: "k", DINGTALK_APP_SECRET_PARAMETER: "/app/secret" }).appSecret,
    ).toEqual({
      kind: "ssm",
      name: "/app/secret",
    });
    expect(
      loadDingTalkConfig({
        DINGTALK_APP_KEY: "k",
        DINGTALK_APP_SECRET_PARAMETER: "secretsmanager:prod/dingtalk",
      }).appSecret,
    ).toEqual({ kind: "secretsmanager", id: "prod/dingtalk" });
  });

  it("refuses a secret given both ways, without echoing its value", () => {
    const problems = problemsOf(() =>
      loadDingTalkConfig({
        DINGTALK_APP_KEY: "k",
        DINGTALK_APP_SECRET: "hunter2",
        DINGTALK_APP_SECRET_PARAMETER: "/p",
      }),
    );
    expect(problems).toEqual(["set either DINGTALK_APP_SECRET or DINGTALK_APP_SECRET_PARAMETER, not both"]);
    expect(problems.join()).not.toContain("hunter2");
  });
});

describe("loadArchiveConfig", () => {
  it("normalises the prefix to end in a slash", () => {
    expect(loadArchiveConfig({ ARCHIVE_BUCKET: "dingtalk-archive", ARCHIVE_PREFIX: "dt" })).toEqual({
      bucket: "dingtalk-archive",
      prefix: "dt/",
    });
    expect(loadArchiveConfig({ ARCHIVE_BUCKET: "dingtalk-archive" }).prefix).toBe("");
  });

  it("refuses bad bucket names and escaping prefixes", () => {
    const problems = problemsOf(() =>
      loadArchiveConfig({ ARCHIVE_BUCKET: "Bad_Bucket", ARCHIVE_PREFIX: "a/../b" }),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^ARCHIVE_BUCKET must be a valid S3 bucket name \(got "Bad_Bucket"\)/);
    expect(problems[1]).toMatch(/^ARCHIVE_PREFIX must not start with \/ or contain \.\./);
  });
});

describe("loadTransferConfig", () => {
  it("defaults to 8 MiB parts, 8 in parallel, DingTalk's download hosts", () => {
    expect(loadTransferConfig({})).toEqual({
      partSize: 8 * 1024 * 1024,
      concurrency: 8,
      downloadAllowedHosts: ["*.dingtalk.com", "*.aliyuncs.com"],
      allowHttpHosts: [],
    });
  });

  it("keeps part sizes within S3's limits and parses the host list", () => {
    expect(problemsOf(() => loadTransferConfig({ TRANSFER_PART_SIZE: "1024" }))[0]).toMatch(
      /^TRANSFER_PART_SIZE must be at least 5242880/,
    );
    expect(problemsOf(() => loadTransferConfig({ TRANSFER_CONCURRENCY: "many" }))[0]).toMatch(
      /^TRANSFER_CONCURRENCY must be a number/,
    );
    expect(
      loadTransferConfig({ DOWNLOAD_ALLOWED_HOSTS: "127.0.0.1:4010, *.example.com" }).downloadAllowedHosts,
    ).toEqual(["127.0.0.1:4010", "*.example.com"]);
    expect(problemsOf(() => loadTransferConfig({ DOWNLOAD_ALLOWED_HOSTS: "http://evil/" }))[0]).toMatch(
      /^DOWNLOAD_ALLOWED_HOSTS/,
    );
  });
});

describe("loadSections", () => {
  it("collects the problems of every section into one error", () => {
    const problems = problemsOf(() =>
      loadSections({ dingtalk: () => loadDingTalkConfig({}), webhook: () => loadWebhookConfig({}) }),
    );
    expect(problems).toEqual([
      "DINGTALK_APP_KEY is required",
      "DINGTALK_APP_SECRET (or DINGTALK_APP_SECRET_PARAMETER) is required",
      "WEBHOOK_SECRET (or WEBHOOK_SECRET_PARAMETER) is required",
    ]);
  });
});
