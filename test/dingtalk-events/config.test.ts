import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config";
import { loadDingTalkEventsConfig, loadDingTalkEventsSettings } from "../../lib/dingtalk-events/config";
import { KEYS } from "./helpers";

const good = {
  DINGTALK_EVENT_TOKEN: KEYS.token,
  DINGTALK_EVENT_AES_KEY: KEYS.aesKey,
  DINGTALK_APP_KEY: "app-key",
  ARCHIVE_QUEUE_URL: "http://127.0.0.1:4566/000000000000/archive",
  IDEMPOTENCY_TABLE: "idempotency",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadDingTalkEventsSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("dingtalk-events configuration", () => {
  it("loads values, with the owner key defaulting to the app key and a 5-minute window", () => {
    expect(loadDingTalkEventsConfig(good)).toEqual({
      token: { kind: "value", name: "DINGTALK_EVENT_TOKEN", value: KEYS.token },
      aesKey: { kind: "value", name: "DINGTALK_EVENT_AES_KEY", value: KEYS.aesKey },
      ownerKey: "app-key",
      archiveQueueUrl: good.ARCHIVE_QUEUE_URL,
      maxSkewMs: 300_000,
      maxBodyBytes: 65_536,
      archiveSpaces: undefined,
    });
  });

  it("takes the spaces of ARCHIVE_SOURCES as the events' scope, unless told to archive every push", () => {
    // No operator anywhere: that is the schedule's concern, not this function's.
    const sources = JSON.stringify([{ spaceId: "111" }, { spaceId: "222", parentId: "9", unionId: "u" }]);
    expect(loadDingTalkEventsConfig({ ...good, ARCHIVE_SOURCES: sources }).archiveSpaces).toEqual([
      "111",
      "222",
    ]);
    expect(
      loadDingTalkEventsConfig({ ...good, ARCHIVE_SOURCES: sources, DINGTALK_EVENTS_ARCHIVE_ALL: "true" })
        .archiveSpaces,
    ).toBeUndefined();
    expect(problems({ ...good, ARCHIVE_SOURCES: "[{}]", DINGTALK_EVENTS_ARCHIVE_ALL: "yes" })).toEqual(
      expect.arrayContaining([
        "DINGTALK_EVENTS_ARCHIVE_ALL must be true or false",
        expect.stringMatching(/^ARCHIVE_SOURCES\[0\]\.spaceId is required/),
      ]),
    );
  });

  it("reads secrets from SSM parameter names, and takes an owner key and window override", () => {
    const { DINGTALK_EVENT_TOKEN: _, DINGTALK_EVENT_AES_KEY: __, ...rest } = good;
    const config = loadDingTalkEventsConfig({
      ...rest,
      DINGTALK_EVENT_TOKEN_PARAMETER: "/bridge/dev/dingtalk-event-token",
      DINGTALK_EVENT_AES_KEY_PARAMETER: "/bridge/dev/dingtalk-event-aes-key",
      DINGTALK_EVENT_OWNER_KEY: "ding-corp-id",
      DINGTALK_EVENT_MAX_SKEW_SECONDS: "120",
    });
    expect(config).toMatchObject({
      token: { kind: "ssm", parameter: "/bridge/dev/dingtalk-event-token", maxAgeSeconds: 300 },
      aesKey: { kind: "ssm", parameter: "/bridge/dev/dingtalk-event-aes-key", maxAgeSeconds: 300 },
      ownerKey: "ding-corp-id",
      maxSkewMs: 120_000,
    });
  });

  it("names every missing variable at once", () => {
    expect(problems({})).toEqual(
      expect.arrayContaining([
        "DINGTALK_APP_KEY is required",
        "ARCHIVE_QUEUE_URL is required",
        "DINGTALK_EVENT_TOKEN (or DINGTALK_EVENT_TOKEN_PARAMETER) is required",
        "DINGTALK_EVENT_AES_KEY (or DINGTALK_EVENT_AES_KEY_PARAMETER) is required",
        "IDEMPOTENCY_TABLE is required",
      ]),
    );
  });

  it("names a bad AES key, queue URL, window, and a secret given twice, without echoing secrets", () => {
    const found = problems({
      ...good,
      DINGTALK_EVENT_AES_KEY: "too-short-secret-value",
      DINGTALK_EVENT_TOKEN_PARAMETER: "/also/a/parameter",
      ARCHIVE_QUEUE_URL: "not a url",
      DINGTALK_EVENT_MAX_SKEW_SECONDS: "5",
    });
    expect(found).toEqual(
      expect.arrayContaining([
        "DINGTALK_EVENT_AES_KEY must be 43 base64 characters (got 22 characters)",
        "set either DINGTALK_EVENT_TOKEN or DINGTALK_EVENT_TOKEN_PARAMETER, not both",
        "ARCHIVE_QUEUE_URL must be an http(s) URL",
        "DINGTALK_EVENT_MAX_SKEW_SECONDS must be at least 30",
      ]),
    );
    expect(found.join(" ")).not.toContain("too-short-secret-value");
    expect(found.join(" ")).not.toContain(KEYS.token);
  });
});

describe("dingtalk-events: idempotency outlives the timestamp window", () => {
  it("refuses an IDEMPOTENCY_TTL_SECONDS shorter than twice DINGTALK_EVENT_MAX_SKEW_SECONDS", () => {
    expect(
      problems({ ...good, DINGTALK_EVENT_MAX_SKEW_SECONDS: "3600", IDEMPOTENCY_TTL_SECONDS: "3600" }),
    ).toEqual([
      "IDEMPOTENCY_TTL_SECONDS must be at least twice DINGTALK_EVENT_MAX_SKEW_SECONDS (7200 s; got 3600)",
    ]);
    expect(
      loadDingTalkEventsSettings({
        ...good,
        DINGTALK_EVENT_MAX_SKEW_SECONDS: "3600",
        IDEMPOTENCY_TTL_SECONDS: "7200",
      }).idempotency.expiresAfterSeconds,
    ).toBe(7200);
  });

  it("reads ALLOWED_UNION_IDS (default DINGTALK_UNION_ID) to decide whom a pushed job acts as", () => {
    expect(
      loadDingTalkEventsSettings({ ...good, DINGTALK_UNION_ID: "op" }).operators.allowedUnionIds,
    ).toEqual(["op"]);
    expect(
      loadDingTalkEventsSettings({ ...good, ALLOWED_UNION_IDS: "a,b" }).operators.allowedUnionIds,
    ).toEqual(["a", "b"]);
  });
});
