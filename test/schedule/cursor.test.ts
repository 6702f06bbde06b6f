/** The cursor: parsing archive keys back, starting a run, and splitting a cursor too big for one message. */
import { describe, expect, it } from "vitest";
import { archiveKey } from "../../lib/archive";
import { parseArchiveKey } from "../../lib/schedule/archived";
import {
  type FolderTask,
  type ScanCursor,
  scanCursorSchema,
  splitCursor,
  startCursor,
  zeroCounters,
} from "../../lib/schedule/cursor";

describe("parseArchiveKey", () => {
  it("reads back what archiveKey wrote, whatever the name", () => {
    for (const name of ["a.txt", "报告 2026.pdf", "x/y\\z", "..", "v2", "a".repeat(2000)]) {
      for (const prefix of ["", "dingtalk/", "a/b/"]) {
        const key = archiveKey({ prefix, spaceId: "space", dentryId: "123", version: 7, name });
        expect(parseArchiveKey(`${prefix}space/`, key)).toEqual({ dentryId: "123", version: 7 });
      }
    }
  });

  it("reads back an opaque dentry id that archiveKey had to encode", () => {
    for (const dentryId of ["cidOuTaLz7/D7zkkM/5PlrQQA==", "a\\b%2F", "184463020201"]) {
      const key = archiveKey({ prefix: "p/", spaceId: "space", dentryId, version: 3, name: "n" });
      expect(parseArchiveKey("p/space/", key)).toEqual({ dentryId, version: 3 });
    }
    expect(parseArchiveKey("p/space/", "p/space/a%zz/v1/n")).toBeUndefined();
  });

  it("ignores keys of another layout", () => {
    for (const key of [
      "p/space/123",
      "p/space/123/v1/",
      "p/space/123/1/a",
      "p/space/123/v0/a",
      "p/space/123/v1/a/b",
      "p/other/1/v1/a",
      "p/space/123/v1x/a",
    ]) {
      expect(parseArchiveKey("p/space/", key), key).toBeUndefined();
    }
  });
});

describe("startCursor", () => {
  it("lists the sources in order, writing only what differs from the defaults", () => {
    const cursor = startCursor(
      [
        { spaceId: "a", parentId: "0", recursive: true },
        { spaceId: "b", parentId: "5", recursive: false, unionId: "u" },
      ],
      "run-1",
      new Date("2026-01-01T00:00:00Z"),
    );
    expect(cursor).toEqual({
      kind: "archive-scan",
      runId: "run-1",
      startedAt: "2026-01-01T00:00:00.000Z",
      invocation: 1,
      pending: [
        { spaceId: "b", parentId: "5", recursive: false, unionId: "u" },
        { spaceId: "a", parentId: "0" },
      ],
      totals: zeroCounters(),
      // The whole-space source, recorded when the run completes (full: no `since` was given).
      spaces: [{ spaceId: "a", full: true }],
    });
    expect(scanCursorSchema.parse(JSON.parse(JSON.stringify(cursor)))).toEqual(cursor);
  });

  it("makes a whole-space source incremental when given the time to list from", () => {
    const since = "2026-01-01T00:00:00.000Z";
    const cursor = startCursor(
      [
        { spaceId: "a", parentId: "0", recursive: true },
        { spaceId: "b", parentId: "5", recursive: true },
      ],
      "run-2",
      new Date("2026-01-02T00:00:00Z"),
      [since, since],
    );
    // A folder source keeps the folder walk: only the whole space is listed flat.
    expect(cursor.pending).toEqual([
      { spaceId: "b", parentId: "5" },
      { spaceId: "a", parentId: "0", since },
    ]);
    expect(cursor.spaces).toEqual([{ spaceId: "a", full: false }]);
  });
});

describe("splitCursor", () => {
  const cursor = (pending: FolderTask[]): ScanCursor => ({
    kind: "archive-scan",
    runId: "r",
    startedAt: "2026-01-01T00:00:00.000Z",
    invocation: 3,
    pending,
    totals: { ...zeroCounters(), pages: 9, queued: 4 },
  });

  it("keeps a small cursor whole", () => {
    const small = cursor([{ spaceId: "s", parentId: "1" }]);
    expect(splitCursor(small)).toEqual([small]);
  });

  it("splits a big one into parts under the limit that hold every folder once; the folder paged part way stays first", () => {
    const folders: FolderTask[] = Array.from({ length: 5000 }, (_, i) => ({
      spaceId: "space",
      parentId: String(10_000_000_000 + i),
    }));
    folders.push({ spaceId: "space", parentId: "current", nextToken: "t".repeat(500) });
    const parts = splitCursor(cursor(folders), 20_000);
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) {
      expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThanOrEqual(20_000);
      expect(part).toMatchObject({ runId: "r", invocation: 3 });
    }
    expect(
      parts
        .flatMap((p) => p.pending)
        .map((t) => t.parentId)
        .sort(),
    ).toEqual(folders.map((t) => t.parentId).sort());
    expect(parts[0]?.pending.at(-1)).toMatchObject({ parentId: "current" });
    // The totals so far ride on one part only, so the sum over the branches stays right.
    expect(parts[0]?.totals).toMatchObject({ pages: 9, queued: 4 });
    expect(parts.slice(1).every((p) => p.totals.pages === 0 && p.totals.queued === 0)).toBe(true);
  });
});
