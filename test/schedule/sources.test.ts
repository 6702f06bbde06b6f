/** ARCHIVE_SOURCES and the rest of the schedule's configuration: defaults, and errors naming the bad field. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config";
import { loadScheduleConfig, loadScheduleSettings } from "../../lib/schedule/config";
import { MAX_SOURCES, parseSources, SourcesError } from "../../lib/schedule/sources";

const base = {
  ARCHIVE_QUEUE_URL: "http://127.0.0.1:4566/000000000000/archive",
  ARCHIVE_SCAN_QUEUE_URL: "http://127.0.0.1:4566/000000000000/archive-scan",
  DINGTALK_UNION_ID: "union-1",
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadScheduleConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("ARCHIVE_SOURCES", () => {
  it("applies the defaults: the space root, recursive", () => {
    const config = loadScheduleConfig({
      ...base,
      ARCHIVE_SOURCES: '[{"spaceId":"s1"},{"spaceId":"s2","parentId":"42","recursive":false,"unionId":"u2"}]',
    });
    expect(config.sources).toEqual([
      { spaceId: "s1", parentId: "0", recursive: true },
      { spaceId: "s2", parentId: "42", recursive: false, unionId: "u2" },
    ]);
    expect(config).toMatchObject({ stopMarginSeconds: 30, archiveQueueUrl: base.ARCHIVE_QUEUE_URL });
  });

  it("may be unset (each scheduled event then brings its sources)", () => {
    expect(loadScheduleConfig(base).sources).toEqual([]);
  });

  it("bad JSON: the error names ARCHIVE_SOURCES", () => {
    expect(problemsOf({ ...base, ARCHIVE_SOURCES: "[{spaceId: s1}]" })).toEqual([
      expect.stringMatching(/^ARCHIVE_SOURCES is not valid JSON: /),
    ]);
  });

  it("names the bad entry and field of each problem", () => {
    const problems = problemsOf({
      ...base,
      ARCHIVE_SOURCES: JSON.stringify([
        { spaceId: "ok" },
        { parentId: "1" },
        { spaceId: "s\t3" },
        { spaceId: "s4", recursive: "yes" },
        { spaceId: "s5", parentID: "7" },
      ]),
    });
    expect(problems).toEqual([
      "ARCHIVE_SOURCES[1].spaceId is required",
      "ARCHIVE_SOURCES[2].spaceId must not contain control characters",
      "ARCHIVE_SOURCES[3].recursive must be true or false",
      expect.stringMatching(/^ARCHIVE_SOURCES\[4\] .*parentID/),
    ]);
  });

  it("must be an array of at most 100 sources", () => {
    expect(problemsOf({ ...base, ARCHIVE_SOURCES: '{"spaceId":"s1"}' })).toEqual([
      expect.stringMatching(/^ARCHIVE_SOURCES must be a JSON array/),
    ]);
    const many = JSON.stringify(Array.from({ length: MAX_SOURCES + 1 }, (_, i) => ({ spaceId: `s${i}` })));
    expect(problemsOf({ ...base, ARCHIVE_SOURCES: many })).toEqual([
      `ARCHIVE_SOURCES must list at most ${MAX_SOURCES} sources`,
    ]);
  });

  it("a source without a unionId needs DINGTALK_UNION_ID", () => {
    const { DINGTALK_UNION_ID: _, ...noUnion } = base;
    expect(
      problemsOf({ ...noUnion, ARCHIVE_SOURCES: '[{"spaceId":"s1","unionId":"u"},{"spaceId":"s2"}]' }),
    ).toEqual(["ARCHIVE_SOURCES[1].unionId is required when DINGTALK_UNION_ID is not set"]);
  });

  it("drops sources another one covers", () => {
    expect(
      parseSources(
        [
          { spaceId: "s1", parentId: "9" },
          { spaceId: "s1" },
          { spaceId: "s1" },
          { spaceId: "s1", parentId: "0", recursive: false },
          { spaceId: "s1", parentId: "9", unionId: "other" },
          { spaceId: "s2", parentId: "5" },
          { spaceId: "s2", parentId: "5" },
        ],
        "sources",
        "u",
      ),
    ).toEqual([
      { spaceId: "s1", parentId: "0", recursive: true },
      { spaceId: "s1", parentId: "9", recursive: true, unionId: "other" },
      { spaceId: "s2", parentId: "5", recursive: true },
    ]);
  });

  it("names the list it came from (an event's sources)", () => {
    expect(() => parseSources([{ spaceId: "" }], "detail.sources", "u")).toThrow(
      new SourcesError(["detail.sources[0].spaceId must not be empty"]),
    );
  });
});

describe("the schedule's other variables", () => {
  it("reports every bad variable of every section at once", () => {
    let error: unknown;
    try {
      loadScheduleSettings({
        ARCHIVE_SCAN_QUEUE_URL: "not a url",
        ARCHIVE_SCAN_STOP_MARGIN_SECONDS: "2",
        ARCHIVE_SOURCES: "[",
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DINGTALK_APP_KEY /),
        expect.stringMatching(/^ARCHIVE_BUCKET /),
        "ARCHIVE_QUEUE_URL is required",
        expect.stringMatching(/^ARCHIVE_SCAN_QUEUE_URL must be an http\(s\) URL/),
        expect.stringMatching(/^ARCHIVE_SCAN_STOP_MARGIN_SECONDS must be a whole number from 5 to 600/),
        expect.stringMatching(/^ARCHIVE_SOURCES is not valid JSON/),
      ]),
    );
  });
});

describe("sources and ALLOWED_UNION_IDS", () => {
  const base = {
    DINGTALK_APP_KEY: "k",
    DINGTALK_APP_SECRET: "s",
    DINGTALK_UNION_ID: "operator",
    ARCHIVE_BUCKET: "dingtalk-archive",
    ARCHIVE_QUEUE_URL: "http://127.0.0.1:4566/000000000000/archive",
    ARCHIVE_SCAN_QUEUE_URL: "http://127.0.0.1:4566/000000000000/scan",
  };
  const sources = JSON.stringify([{ spaceId: "s1" }, { spaceId: "s2", unionId: "someone" }]);

  it("refuses at cold start a source acting as a union id the archive worker would refuse", () => {
    let error: unknown;
    try {
      loadScheduleSettings({ ...base, ARCHIVE_SOURCES: sources });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "ARCHIVE_SOURCES[1].unionId is not in ALLOWED_UNION_IDS",
    ]);
  });

  it("accepts it once the union id is allowed", () => {
    const settings = loadScheduleSettings({
      ...base,
      ARCHIVE_SOURCES: sources,
      ALLOWED_UNION_IDS: "operator,someone",
    });
    expect(settings.schedule.sources.map((s) => s.unionId)).toEqual([undefined, "someone"]);
  });
});
