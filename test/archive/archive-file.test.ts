/**
 * archiveFile end to end: the real DingTalk client against the sandbox, the real transfer engine and AWS SDK
 * against fauxqs. Every archived object is read back and compared byte for byte (SHA-256) with the sandbox's
 * generated content.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { beforeEach, describe, expect, it } from "vitest";
import {
  ARCHIVE_CODES,
  ArchiveError,
  ArchiveRetryLater,
  archiveFile,
  META,
  readMetadataValue,
} from "../../lib/archive";
import { s3CheckpointStore } from "../../lib/transfer";
import { sha256OfGenerated } from "../../sandbox/content";
import { useWorld } from "../support/use-world";
import { BUCKET, headObject, MiB, seedOf, sha256OfObject, startArchiveWorld } from "./helpers";

const world = useWorld(startArchiveWorld);
beforeEach(() => {
  world.sandbox.clearFaults();
});

const space = () => world.sandbox.options.spaceId;

/** Put a generated file in the sandbox and archive it; check the object byte for byte. */
async function archiveGenerated(name: string, size: number, parentPath = "archive-tests") {
  const dentryId = world.sandbox.putGeneratedFile({ name, size, parentPath });
  const result = await archiveFile({ spaceId: space(), dentryId }, world.deps());
  const back = await sha256OfObject(world.s3, result.key);
  const path = `${parentPath}/${name}`;
  const version = result.version;
  expect(back).toEqual({
    sha256: await sha256OfGenerated(seedOf(world.sandbox, path, version), size),
    bytes: size,
  });
  return { dentryId, result };
}

describe("archiveFile: bytes", () => {
  it.each([
    ["0 B", "empty.bin", 0],
    ["1 B", "one-byte.bin", 1],
    ["exactly one part (5 MiB)", "one-part.bin", 5 * MiB],
    ["one part + 1 byte", "one-part-plus-one.bin", 5 * MiB + 1],
  ])("archives %s byte-exact", async (_label, name, size) => {
    const { dentryId, result } = await archiveGenerated(name, size);
    expect(result).toMatchObject({
      status: "archived",
      bucket: BUCKET,
      key: `${space()}/${dentryId}/v1/${name}`,
      size,
      version: 1,
      checksum: { algorithm: "CRC32" },
    });
    if (result.status !== "archived") throw new Error("unreachable");
    expect(result.checksum?.value).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    expect(result.etag).not.toBe("");
    expect(result.bytesResent).toBe(0);
  });

  it("stores an HTML or SVG file with a neutral type so a presigned link downloads it; the real type in metadata", async () => {
    for (const [name, real] of [
      ["phish.html", "text/html"],
      ["logo.svg", "image/svg+xml"],
    ] as const) {
      const { result } = await archiveGenerated(name, 1_000);
      const head = await headObject(world.s3, result.key);
      expect(head.ContentType, name).toBe("application/octet-stream");
      expect(head.Metadata?.[META.contentType], name).toBe(real);
    }
  });

  it("archives a non-ASCII name under a readable key, with its metadata percent-encoded", async () => {
    const name = "季度报告 Données été 2026.xlsx";
    const { dentryId, result } = await archiveGenerated(name, 300_001);
    expect(result.key).toBe(`${space()}/${dentryId}/v1/${name}`);
    const head = await headObject(world.s3, result.key);
    expect(head.ContentType).toBe("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    const meta = head.Metadata ?? {};
    for (const value of Object.values(meta)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(readMetadataValue(meta[META.name])).toBe(name);
    expect(meta).toMatchObject({
      [META.spaceId]: space(),
      [META.dentryId]: dentryId,
      [META.version]: "1",
      [META.size]: "300001",
      [META.creatorId]: world.sandbox.options.unionId,
    });
    expect(meta[META.modifiedTime]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
  });
});

describe("archiveFile: once per version", () => {
  it("skips a version already in S3 without downloading anything", async () => {
    const { dentryId, result: first } = await archiveGenerated("twice.bin", 6 * MiB);
    world.sandbox.resetCalls();
    const again = await archiveFile({ spaceId: space(), dentryId }, world.deps());
    expect(again).toMatchObject({
      status: "skipped",
      key: first.key,
      size: 6 * MiB,
      version: 1,
      etag: first.status === "archived" ? first.etag : "",
    });
    // Real S3 keeps the full-object CRC of a multipart upload; fauxqs keeps a composite one, which is not reported.
    if (again.status === "skipped" && again.checksum) {
      expect(again.checksum).toEqual(first.status === "archived" && first.checksum);
    }
    const calls = world.sandbox.calls();
    expect(calls.file).toBe(0);
    expect(calls.downloadInfo).toBe(0);
  });

  it("reports the checksum S3 keeps when skipping", async () => {
    const { dentryId, result: first } = await archiveGenerated("small-twice.txt", 1000);
    const again = await archiveFile({ spaceId: space(), dentryId }, world.deps());
    expect(again.status).toBe("skipped");
    expect(again.status === "skipped" && again.checksum).toEqual(
      first.status === "archived" && first.checksum,
    );
  });

  it("archives a new version under v2, next to v1", async () => {
    const { dentryId, result: v1 } = await archiveGenerated("versioned.txt", 1000);
    const sameId = world.sandbox.putGeneratedFile({
      name: "versioned.txt",
      size: 2000,
      parentPath: "archive-tests",
    });
    expect(sameId).toBe(dentryId);
    const v2 = await archiveFile({ spaceId: space(), dentryId }, world.deps());
    expect(v2).toMatchObject({
      status: "archived",
      key: `${space()}/${dentryId}/v2/versioned.txt`,
      size: 2000,
    });
    expect(await sha256OfObject(world.s3, v2.key)).toEqual({
      sha256: await sha256OfGenerated(seedOf(world.sandbox, "archive-tests/versioned.txt", 2), 2000),
      bytes: 2000,
    });
    // v1 is still there, unchanged.
    expect((await sha256OfObject(world.s3, v1.key)).bytes).toBe(1000);
  });

  it("archives an older version on request, sizing it from the file host", async () => {
    const path = "archive-tests/old-version.bin";
    const dentryId = world.sandbox.putGeneratedFile({
      name: "old-version.bin",
      size: 7 * MiB + 3,
      parentPath: "archive-tests",
    });
    world.sandbox.putGeneratedFile({ name: "old-version.bin", size: 10, parentPath: "archive-tests" });
    const result = await archiveFile({ spaceId: space(), dentryId, version: 1 }, world.deps());
    expect(result).toMatchObject({ status: "archived", version: 1, size: 7 * MiB + 3 });
    expect(result.key).toBe(`${space()}/${dentryId}/v1/old-version.bin`);
    expect(await sha256OfObject(world.s3, result.key)).toEqual({
      sha256: await sha256OfGenerated(seedOf(world.sandbox, path, 1), 7 * MiB + 3),
      bytes: 7 * MiB + 3,
    });
    const again = await archiveFile({ spaceId: space(), dentryId, version: 1 }, world.deps());
    expect(again.status).toBe("skipped");
  });
});

describe("archiveFile: pause and resume (as a Lambda running out of time)", () => {
  it("pauses when shouldStop() says so, and the next call sends only the missing parts", async () => {
    const size = 23 * MiB; // 5 parts of 5 MiB
    const dentryId = world.sandbox.putGeneratedFile({
      name: "paused.bin",
      size,
      parentPath: "archive-tests",
    });
    const checkpoints = s3CheckpointStore({ s3: world.s3, bucket: BUCKET, minSaveIntervalMs: 0 });
    const transfer = { ...world.deps().transfer, concurrency: 1 };
    world.sandbox.resetCalls();
    let partsDone = 0;
    const first = await archiveFile(
      { spaceId: space(), dentryId },
      world.deps({
        checkpoints,
        transfer,
        shouldStop: () => partsDone >= 2,
        onProgress: (p) => {
          partsDone = p.partsDone;
          expect(p).toMatchObject({ size, partsTotal: 5 });
        },
      }),
    );
    expect(first).toMatchObject({
      status: "paused",
      partsDone: 2,
      partsTotal: 5,
      bytesDone: 10 * MiB,
      version: 1,
    });
    await expect(headObject(world.s3, first.key)).rejects.toThrow(); // nothing under the key yet

    const second = await archiveFile({ spaceId: space(), dentryId }, world.deps({ checkpoints, transfer }));
    expect(second).toMatchObject({ status: "archived", resumedParts: 2, bytesResent: 0 });
    expect(world.sandbox.calls().file).toBe(5);
    expect(await sha256OfObject(world.s3, second.key)).toEqual({
      sha256: await sha256OfGenerated(seedOf(world.sandbox, "archive-tests/paused.bin", 1), size),
      bytes: size,
    });
  });
});

describe("archiveFile: looking for the archived version", () => {
  /** A client of the same fauxqs whose HeadObject fails with `status` (fauxqs cannot be made to answer that). */
  function s3WithFailingHead(status: number): S3Client {
    const s3 = new S3Client({
      endpoint: world.emulator.address,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "HeadObjectCommand") {
          throw Object.assign(new Error(`HTTP ${status}`), {
            name: status === 403 ? "Forbidden" : "InternalError",
            $metadata: { httpStatusCode: status },
          });
        }
        return next(args);
      },
      { step: "initialize", name: "failHeadObject" },
    );
    return s3;
  }

  it("archives when HeadObject answers 403 (no s3:ListBucket: a missing key is not told apart)", async () => {
    const dentryId = world.sandbox.putGeneratedFile({
      name: "no-list.txt",
      size: 10,
      parentPath: "archive-tests",
    });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => warnings.push(message) };
    const result = await archiveFile(
      { spaceId: space(), dentryId },
      world.deps({ s3: s3WithFailingHead(403), logger }),
    );
    expect(result.status).toBe("archived");
    expect(warnings).toEqual([expect.stringMatching(/HeadObject answered 403/)]);
  });

  it("fails retryably, before downloading, when S3 cannot be asked", async () => {
    const dentryId = world.sandbox.putGeneratedFile({
      name: "s3-down.txt",
      size: 10,
      parentPath: "archive-tests",
    });
    world.sandbox.resetCalls();
    const error = await archiveFile(
      { spaceId: space(), dentryId },
      world.deps({ s3: s3WithFailingHead(503) }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ARCHIVE_CODES.s3, retryable: true, status: 503 });
    expect(world.sandbox.calls().downloadInfo).toBe(0);
  });
});

describe("archiveFile: refusals", () => {
  it("turns fileArchived into ArchiveRetryLater, before any S3 upload", async () => {
    const dentryId = world.sandbox.putGeneratedFile({
      name: "cold.bin",
      size: 100,
      parentPath: "archive-tests",
    });
    world.sandbox.addFaults({ api: "downloadInfo", kind: "fileArchived", times: 1 });
    const error = await archiveFile({ spaceId: space(), dentryId }, world.deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveRetryLater);
    const later = error as ArchiveRetryLater;
    expect(later).toMatchObject({ code: "fileArchived", retryable: true });
    expect(later.retryAfterMs).toBeGreaterThan(0);
    expect(later.requestId).toMatch(/.+/);
    // Redelivered later, it archives.
    const result = await archiveFile({ spaceId: space(), dentryId }, world.deps());
    expect(result.status).toBe("archived");
  });

  it("carries DingTalk's code and request id when the dentry does not exist", async () => {
    const error = await archiveFile({ spaceId: space(), dentryId: "999999" }, world.deps()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error).not.toBeInstanceOf(ArchiveRetryLater);
    const failure = error as ArchiveError;
    expect(failure.code).toBe("dentryNotExist");
    expect(failure.requestId).toMatch(/.+/);
    expect(failure.retryable).toBe(false);
    expect(failure.status).toBe(404);
    expect(failure.message).toContain(failure.requestId as string);
  });

  it("refuses a folder clearly", async () => {
    const folderId = world.sandbox.dentryIdByPath("docs") as string;
    world.sandbox.resetCalls();
    const error = await archiveFile({ spaceId: space(), dentryId: folderId }, world.deps()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error).toMatchObject({ code: ARCHIVE_CODES.notAFile, retryable: false });
    expect((error as Error).message).toMatch(/"docs" is a folder/);
    expect(world.sandbox.calls().downloadInfo).toBe(0);
  });

  it("needs an operator: the request's unionId or the default", async () => {
    const dentryId = world.sandbox.dentryIdByPath("README.txt") as string;
    const error = await archiveFile(
      { spaceId: space(), dentryId },
      world.deps({ defaultUnionId: undefined }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ARCHIVE_CODES.missingUnionId });
    const result = await archiveFile(
      { spaceId: space(), dentryId, unionId: world.sandbox.options.unionId },
      world.deps({ defaultUnionId: undefined }),
    );
    expect(result.status).toBe("archived");
  });
});
