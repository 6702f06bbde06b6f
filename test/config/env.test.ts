import { describe, expect, it } from "vitest";
import {
  ConfigError,
  loadArchiveConfig,
  loadDingTalkConfig,
  loadIdempotencyConfig,
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
      appSecret: { kind: "value", name: "DINGTALK_APP_SECRET", value: "s" },
      defaultUnionId: "u",
      timeoutMs: 10_000,
      preferIntranet: false,
      allowedUnionIds: ["u"],
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
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).toMatch(/DINGTALK_API_BASE must be an http\(s\) URL/);
    expect(problems.join("\n")).toMatch(/DINGTALK_APP_KEY is required/);
    expect(problems.join("\n")).toMatch(
      /DINGTALK_APP_SECRET \(or DINGTALK_APP_SECRET_PARAMETER\) is required/,
    );
  });

  it("takes the secret from an SSM SecureString by name, re-read after SECRETS_MAX_AGE_SECONDS", () => {
    expect(
      loadDingTalkConfig({ DINGTALK_APP_KEY: "k", DINGTALK_APP_SECRET_PARAMETER: "/app/secret" }).appSecret,
    ).toEqual({ kind: "ssm", name: "DINGTALK_APP_SECRET", parameter: "/app/secret", maxAgeSeconds: 300 });
    expect(
      loadDingTalkConfig({
        DINGTALK_APP_KEY: "k",
        DINGTALK_APP_SECRET_PARAMETER: "/app/secret",
        SECRETS_MAX_AGE_SECONDS: "30",
      }).appSecret,
    ).toMatchObject({ maxAgeSeconds: 30 });
    expect(
      problemsOf(() =>
        loadDingTalkConfig({
          DINGTALK_APP_KEY: "k",
          DINGTALK_APP_SECRET_PARAMETER: "/app/secret",
          SECRETS_MAX_AGE_SECONDS: "0",
        }),
      ),
    ).toEqual(['SECRETS_MAX_AGE_SECONDS must be at least 1 (got "0")']);
  });

  it("takes a parameter shared from another account by ARN, and refuses what is no parameter name", () => {
    const arn = "arn:aws:ssm:us-east-1:123456789012:parameter/shared/app-secret";
    const load = (parameter: string) => () =>
      loadDingTalkConfig({ DINGTALK_APP_KEY: "k", DINGTALK_APP_SECRET_PARAMETER: parameter });
    expect(load(arn)().appSecret).toMatchObject({ kind: "ssm", parameter: arn });
    expect(problemsOf(load("/app/secret?version=2"))).toEqual([
      "DINGTALK_APP_SECRET_PARAMETER must be an SSM parameter name or ARN (letters, digits and _ . - /)",
    ]);
  });

  it("refuses a Secrets Manager reference: secrets are SSM SecureStrings only", () => {
    expect(
      problemsOf(() =>
        loadDingTalkConfig({
          DINGTALK_APP_KEY: "k",
          DINGTALK_APP_SECRET_PARAMETER: "secretsmanager:prod/dingtalk",
        }),
      ),
    ).toEqual([
      'DINGTALK_APP_SECRET_PARAMETER must name an SSM SecureString parameter; Secrets Manager is not supported (got "secretsmanager:...")',
    ]);
  });

  it("takes the API base over https, plain http only for a loopback host", () => {
    const base = (url: string) => () =>
      loadDingTalkConfig({ DINGTALK_API_BASE: url, DINGTALK_APP_KEY: "k", DINGTALK_APP_SECRET: "s" });
    for (const local of [
      "http://127.0.0.1:4010",
      "http://127.8.9.10",
      "http://localhost:4010",
      "http://[::1]:4010",
    ]) {
      expect(base(local)().apiBase, local).toBe(local);
    }
    expect(base("https://api.example.com")().apiBase).toBe("https://api.example.com");
    for (const remote of [
      "http://api.dingtalk.com",
      "http://10.0.0.5:4010",
      "http://128.0.0.1",
      "http://localhost.evil.example",
      "http://[::2]",
    ]) {
      expect(problemsOf(base(remote)), remote).toEqual([
        `DINGTALK_API_BASE must be an https URL (plain http only for a loopback host: 127.0.0.0/8, ::1, localhost) (got ${JSON.stringify(remote)})`,
      ]);
    }
  });

  it('counts an empty variable as unset (a template passes "" for what a stage leaves out)', () => {
    const config = loadDingTalkConfig({
      DINGTALK_API_BASE: "",
      DINGTALK_APP_KEY: "k",
      DINGTALK_APP_SECRET: "s",
      DINGTALK_UNION_ID: "op",
      ALLOWED_UNION_IDS: "",
      SECRETS_MAX_AGE_SECONDS: "",
    });
    expect(config).toMatchObject({ apiBase: "https://api.dingtalk.com", allowedUnionIds: ["op"] });
    expect(problemsOf(() => loadDingTalkConfig({ DINGTALK_APP_KEY: "", DINGTALK_APP_SECRET: "s" }))).toEqual([
      "DINGTALK_APP_KEY is required",
    ]);
  });

  it("takes ALLOWED_UNION_IDS as a list, by default just DINGTALK_UNION_ID", () => {
    const load = (env: Record<string, string>) =>
      loadDingTalkConfig({ DINGTALK_APP_KEY: "k", DINGTALK_APP_SECRET: "s", ...env });
    expect(load({}).allowedUnionIds).toEqual([]);
    expect(load({ DINGTALK_UNION_ID: "op" }).allowedUnionIds).toEqual(["op"]);
    expect(load({ DINGTALK_UNION_ID: "op", ALLOWED_UNION_IDS: " a, b ,,c " }).allowedUnionIds).toEqual([
      "a",
      "b",
      "c",
    ]);
    expect(problemsOf(() => load({ ALLOWED_UNION_IDS: " , " }))[0]).toMatch(
      /^ALLOWED_UNION_IDS must name at least one union id/,
    );
    expect(problemsOf(() => load({ ALLOWED_UNION_IDS: "a,b\u0001c" }))[0]).toMatch(
      /^ALLOWED_UNION_IDS must not contain control characters/,
    );
    // Real union ids are opaque: base64-like characters are fine.
    expect(load({ ALLOWED_UNION_IDS: "ZsGGk1JnRAiPDsm8WQiSYrAiEiE,a+b/c=" }).allowedUnionIds).toEqual([
      "ZsGGk1JnRAiPDsm8WQiSYrAiEiE",
      "a+b/c=",
    ]);
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
      loadSections({
        dingtalk: () => loadDingTalkConfig({}),
        webhook: () => loadWebhookConfig("send-link", {}),
      }),
    );
    expect(problems).toEqual([
      "DINGTALK_APP_KEY is required",
      "DINGTALK_APP_SECRET (or DINGTALK_APP_SECRET_PARAMETER) is required",
      "WEBHOOK_SECRET_SEND_LINK (or WEBHOOK_SECRET_SEND_LINK_PARAMETER) is required",
    ]);
  });

  it("reports a variable shared by several sections once", () => {
    const env = {
      DINGTALK_APP_KEY: "k",
      DINGTALK_APP_SECRET_PARAMETER: "/a",
      WEBHOOK_SECRET_ARCHIVE_PARAMETER: "/w",
      SECRETS_MAX_AGE_SECONDS: "soon",
    };
    const problems = problemsOf(() =>
      loadSections({
        dingtalk: () => loadDingTalkConfig(env),
        webhook: () => loadWebhookConfig("archive", env),
      }),
    );
    expect(problems).toEqual(['SECRETS_MAX_AGE_SECONDS must be a number (got "soon")']);
  });
});

describe("loadWebhookConfig", () => {
  it("reads the endpoint's own secret and, while set, its previous one", () => {
    const env = {
      WEBHOOK_SECRET_SEND_LINK: "whsec_bGluaw==",
      WEBHOOK_SECRET_ARCHIVE_PARAMETER: "/bridge/archive",
      WEBHOOK_SECRET_ARCHIVE_PREVIOUS_PARAMETER: "/bridge/archive-previous",
    };
    expect(loadWebhookConfig("send-link", env)).toEqual({
      endpoint: "send-link",
      secret: { kind: "value", name: "WEBHOOK_SECRET_SEND_LINK", value: "whsec_bGluaw==" },
      previousSecret: undefined,
      maxBodyBytes: 64 * 1024,
    });
    expect(loadWebhookConfig("archive", env)).toMatchObject({
      secret: { kind: "ssm", parameter: "/bridge/archive" },
      previousSecret: {
        kind: "ssm",
        name: "WEBHOOK_SECRET_ARCHIVE_PREVIOUS",
        parameter: "/bridge/archive-previous",
      },
    });
  });

  it("says WEBHOOK_SECRET was split per endpoint when it is still set", () => {
    expect(
      problemsOf(() =>
        loadWebhookConfig("archive", { WEBHOOK_SECRET: "whsec_eA==", WEBHOOK_SECRET_ARCHIVE: "whsec_eA==" }),
      ),
    ).toEqual([
      "WEBHOOK_SECRET (and WEBHOOK_SECRET_PARAMETER) was split per endpoint: set WEBHOOK_SECRET_SEND_LINK and WEBHOOK_SECRET_ARCHIVE (or their _PARAMETER forms) instead",
    ]);
  });
});

describe("loadIdempotencyConfig", () => {
  it("refuses a TTL shorter than twice the webhook timestamp tolerance (a replay must find its record)", () => {
    expect(
      loadIdempotencyConfig({ IDEMPOTENCY_TABLE: "t", IDEMPOTENCY_TTL_SECONDS: "600" }).expiresAfterSeconds,
    ).toBe(600);
    expect(
      problemsOf(() => loadIdempotencyConfig({ IDEMPOTENCY_TABLE: "t", IDEMPOTENCY_TTL_SECONDS: "599" })),
    ).toEqual(['IDEMPOTENCY_TTL_SECONDS must be at least 600 (got "599")']);
  });
});
