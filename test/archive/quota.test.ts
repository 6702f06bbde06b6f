/**
 * archiveFile spends DingTalk's metered calls frugally: a job that carries its listing's facts skips
 * getDentry (one call: download info), and a renamed file is copied inside S3 from its earlier key
 * (no DingTalk call, no download). Counted by the sandbox's own per-API counters.
 */
import { describe, expect, it } from "vitest";
import { archiveFile, META, readMetadataValue } from "../../lib/archive";
import { sha256OfGenerated } from "../../sandbox/content";
import { useWorld } from "../support/use-world";
import { headObject, MiB, seedOf, sha256OfObject, startArchiveWorld } from "./helpers";

const world = useWorld(startArchiveWorld);

const space = () => world.sandbox.options.spaceId;

function metered(calls: Record<string, number>): number {
  const { token: _token, file: _file, ...apis } = calls;
  return Object.values(apis).reduce((a, b) => a + b, 0);
}

describe("archiveFile: one metered call per file from a listing", () => {
  it("skips getDentry when the job carries the listed facts, and still stores them as metadata", async () => {
    const dentryId = world.sandbox.putGeneratedFile({ name: "listed.bin", size: 4000, parentPath: "quota" });
    world.sandbox.resetCalls();
    const listed = {
      version: 1,
      name: "listed.bin",
      size: 4000,
      modifiedTime: "2026-11-01T10:00Z",
      creatorId: "creator-1",
    };
    const result = await archiveFile({ spaceId: space(), dentryId, version: 1, listed }, world.deps());
    expect(result).toMatchObject({ status: "archived", size: 4000, version: 1 });
    const calls = world.sandbox.calls();
    expect(calls.getDentry).toBe(0);
    expect(calls.downloadInfo).toBe(1);
    expect(metered(calls)).toBe(1);
    const head = await headObject(world.s3, result.key);
    expect(head.Metadata).toMatchObject({
      [META.modifiedTime]: "2026-11-01T10:00Z",
      [META.creatorId]: "creator-1",
    });
  });

  it("asks getDentry when the listed facts are of another version than the one asked for", async () => {
    const dentryId = world.sandbox.putGeneratedFile({
      name: "other-version.bin",
      size: 10,
      parentPath: "quota",
    });
    world.sandbox.putGeneratedFile({ name: "other-version.bin", size: 20, parentPath: "quota" });
    world.sandbox.resetCalls();
    const listed = { version: 1, name: "other-version.bin", size: 10 };
    const result = await archiveFile({ spaceId: space(), dentryId, version: 2, listed }, world.deps());
    expect(result).toMatchObject({ status: "archived", size: 20, version: 2 });
    expect(world.sandbox.calls().getDentry).toBe(1);
  });
});

describe("archiveFile: a rename costs no download", () => {
  it("copies the version's earlier key to the new name, keeps the old object, calls nothing", async () => {
    const dentryId = world.sandbox.putGeneratedFile({
      name: "before.txt",
      size: 3000,
      parentPath: "renames",
    });
    const first = await archiveFile({ spaceId: space(), dentryId }, world.deps());
    world.sandbox.moveDentry("renames/before.txt", "renames/after 改名.txt");
    world.sandbox.resetCalls();
    const listed = { version: 1, name: "after 改名.txt", size: 3000 };
    const renamed = await archiveFile({ spaceId: space(), dentryId, version: 1, listed }, world.deps());
    expect(renamed).toMatchObject({
      status: "archived",
      key: `${space()}/${dentryId}/v1/after 改名.txt`,
      copiedFrom: first.key,
      size: 3000,
    });
    expect(metered(world.sandbox.calls())).toBe(0);
    expect(world.sandbox.calls().file).toBe(0);
    const expected = await sha256OfGenerated(seedOf(world.sandbox, "renames/before.txt", 1), 3000);
    expect(await sha256OfObject(world.s3, renamed.key)).toEqual({ sha256: expected, bytes: 3000 });
    expect(await sha256OfObject(world.s3, first.key)).toEqual({ sha256: expected, bytes: 3000 });
    const head = await headObject(world.s3, renamed.key);
    expect(readMetadataValue(head.Metadata?.[META.name])).toBe("after 改名.txt");
    expect(head.ContentType).toBe("text/plain");
  });

  it("a job with ids only (an event) costs getDentry but no download", async () => {
    const dentryId = world.sandbox.putGeneratedFile({
      name: "ev-before.txt",
      size: 100,
      parentPath: "renames",
    });
    await archiveFile({ spaceId: space(), dentryId }, world.deps());
    world.sandbox.moveDentry("renames/ev-before.txt", "renames/ev-after.txt");
    world.sandbox.resetCalls();
    const renamed = await archiveFile({ spaceId: space(), dentryId }, world.deps());
    expect(renamed).toMatchObject({ status: "archived", key: `${space()}/${dentryId}/v1/ev-after.txt` });
    expect(world.sandbox.calls()).toMatchObject({ getDentry: 1, downloadInfo: 0, file: 0 });
  });

  it("copies above the single-copy limit by UploadPartCopy ranges", async () => {
    const size = 11 * MiB + 7;
    const dentryId = world.sandbox.putGeneratedFile({ name: "big-before.bin", size, parentPath: "renames" });
    await archiveFile({ spaceId: space(), dentryId }, world.deps());
    world.sandbox.moveDentry("renames/big-before.bin", "renames/big-after.bin");
    world.sandbox.resetCalls();
    const deps = world.deps({ maxSingleCopyBytes: 5 * MiB, copyPartBytes: 5 * MiB });
    const renamed = await archiveFile({ spaceId: space(), dentryId }, deps);
    expect(renamed).toMatchObject({
      status: "archived",
      key: `${space()}/${dentryId}/v1/big-after.bin`,
      size,
    });
    expect(world.sandbox.calls().file).toBe(0);
    const expected = await sha256OfGenerated(seedOf(world.sandbox, "renames/big-before.bin", 1), size);
    expect(await sha256OfObject(world.s3, renamed.key)).toEqual({ sha256: expected, bytes: size });
  });
});
