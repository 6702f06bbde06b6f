/**
 * The chaos campaign's S3 proxy (chaos/s3-proxy.ts) in front of fauxqs: it records every multipart upload by
 * id, injects the S3 faults it promises, and the transfer engine behind it survives them. Includes the
 * regression for a CompleteMultipartUpload whose answer is lost: the SDK's retry finds the upload gone (it
 * became the object), which the engine used to report as a failed transfer.
 */

import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { AbortMultipartUploadCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3Proxy, startS3Proxy } from "../../chaos/s3-proxy";
import { type ArchivedResult, archiveFile } from "../../lib/archive";
import { sha256OfGenerated } from "../../sandbox/content";
import { BUCKET, MiB, seedOf, sha256OfObject, startArchiveWorld } from "../archive/helpers";
import { useWorld } from "../support/use-world";

let proxy: S3Proxy;
let s3: S3Client;

const world = useWorld(startArchiveWorld);
beforeAll(async () => {
  proxy = await startS3Proxy(world.emulator.address);
  s3 = new S3Client({
    endpoint: proxy.url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
});
afterAll(async () => {
  s3?.destroy();
  await proxy?.close();
});

let files = 0;
function newFile(size: number) {
  const name = `p${++files}.bin`;
  const dentryId = world.sandbox.putGeneratedFile({ name, size, parentPath: "proxy" });
  const key = `${world.sandbox.options.spaceId}/${dentryId}/v1/${name}`;
  return { name, dentryId, key, path: `proxy/${name}`, size };
}

const archive = (dentryId: string) =>
  archiveFile({ spaceId: world.sandbox.options.spaceId, dentryId }, world.deps({ s3 }));

async function expectExact(file: ReturnType<typeof newFile>) {
  expect(await sha256OfObject(world.s3, file.key)).toEqual({
    sha256: await sha256OfGenerated(seedOf(world.sandbox, file.path, 1), file.size),
    bytes: file.size,
  });
}

describe("the chaos S3 proxy", () => {
  it("records a multipart upload from creation to completion, with its part bytes", async () => {
    const file = newFile(12 * MiB + 5);
    const result = await archive(file.dentryId);
    expect(result.status).toBe("archived");
    const [upload, ...others] = proxy.uploads(file.key);
    expect(others).toEqual([]);
    expect(upload).toMatchObject({ state: "completed", partRequests: 3, partBytes: file.size });
    expect(proxy.openUploads(file.key)).toEqual([]);
    expect(proxy.bytesFor(file.key)).toBe(file.size);
    await expectExact(file);
  });

  it("fails parts (500, 503, reset) and Complete (500) as asked; the engine sends them again", async () => {
    const file = newFile(16 * MiB);
    proxy.setFaults(file.key, {
      partInternalError: 1,
      partSlowDown: 1,
      partReset: 1,
      resetAfterBytes: 100_000,
      completeInternalError: 1,
    });
    const before = { ...proxy.stats.injected };
    const result = (await archive(file.dentryId)) as ArchivedResult;
    expect(result.status).toBe("archived");
    for (const fault of [
      "partInternalError",
      "partSlowDown",
      "partReset",
      "completeInternalError",
    ] as const) {
      expect((proxy.stats.injected[fault] ?? 0) - (before[fault] ?? 0), fault).toBe(1);
    }
    expect(proxy.openUploads(file.key)).toEqual([]);
    expect(proxy.bytesFor(file.key)).toBeGreaterThan(file.size); // the failed parts went twice
    await expectExact(file);
  });

  it("a lost CompleteMultipartUpload answer: the upload became the object, so the archive succeeds", async () => {
    const file = newFile(11 * MiB);
    proxy.setFaults(file.key, { completeAnswerLost: 1 });
    const result = await archive(file.dentryId);
    expect(result).toMatchObject({ status: "archived", size: file.size, resumedParts: 0 });
    expect(proxy.uploads(file.key)).toMatchObject([{ state: "completed" }]);
    await expectExact(file);
  });

  it("Complete answered 500 twice, then applied but its answer lost: the SDK gives up, the object is there", async () => {
    const file = newFile(11 * MiB);
    proxy.setFaults(file.key, { completeInternalError: 2, completeAnswerLost: 1 });
    const result = await archive(file.dentryId);
    expect(result).toMatchObject({ status: "archived", size: file.size });
    expect(proxy.uploads(file.key)).toMatchObject([{ state: "completed" }]);
    await expectExact(file);
  });

  it("Complete answered 500 on every try (never applied): a clean failure, upload aborted, no object", async () => {
    const file = newFile(11 * MiB);
    proxy.setFaults(file.key, { completeInternalError: 100 });
    await expect(archive(file.dentryId)).rejects.toMatchObject({ code: "Transfer.upload" });
    expect(proxy.uploads(file.key)).toMatchObject([{ state: "aborted" }]);
    await expect(sha256OfObject(world.s3, file.key)).rejects.toMatchObject({ name: "NoSuchKey" });
  });

  it("the streamed fallback (host ignores Range) whose Complete answer is lost: the object is found, not re-sent", async () => {
    const file = newFile(12 * MiB);
    world.sandbox.addFaults({ api: "file", kind: "ignoreRange", times: 1 });
    proxy.setFaults(file.key, { completeAnswerLost: 1 });
    try {
      const result = await archive(file.dentryId);
      expect(result).toMatchObject({ status: "archived", size: file.size });
    } finally {
      world.sandbox.clearFaults();
    }
    // The ranged upload (created before the host showed it ignores Range), then the stream's, completed once.
    expect(proxy.uploads(file.key).map((u) => u.state)).toEqual(["aborted", "completed"]);
    expect(proxy.bytesFor(file.key)).toBe(file.size);
    await expectExact(file);
  });

  it("the streamed fallback failing on every try (seed 777001 run 65): each try's upload is aborted before the archive fails", async () => {
    const file = newFile(44 * MiB);
    world.sandbox.addFaults({ api: "file", kind: "ignoreRange" });
    proxy.setFaults(file.key, { partInternalError: 1000 });
    // A slow AbortMultipartUpload, as S3's can be: an abort the engine does not wait for is still open below.
    proxy.setHook(file.key, async (m) => {
      if (m.op === "AbortMultipartUpload" && m.phase === "request") await sleep(300);
    });
    try {
      await expect(archive(file.dentryId)).rejects.toMatchObject({ code: "Transfer.upload" });
    } finally {
      world.sandbox.clearFaults();
      proxy.setFaults(file.key, {});
      proxy.setHook(file.key, undefined);
    }
    // Checked at once: an abort still under way when the call returns is lost when the process exits.
    const states = proxy.uploads(file.key).map((u) => u.state);
    expect(states.length).toBeGreaterThanOrEqual(2); // the ranged one, then at least one streamed try
    expect(states.every((state) => state === "aborted")).toBe(true);
    expect(proxy.openUploads(file.key)).toEqual([]);
    await expect(sha256OfObject(world.s3, file.key)).rejects.toMatchObject({ name: "NoSuchKey" });
  });

  it("Complete never applied while another writer put a same-size object under the key: a clean failure, that object untouched", async () => {
    const file = newFile(11 * MiB);
    const foreign = randomBytes(file.size);
    proxy.setFaults(file.key, { completeInternalError: 100 });
    proxy.setHook(file.key, async (m) => {
      if (m.op === "CompleteMultipartUpload" && m.phase === "request") {
        await world.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: file.key, Body: foreign }));
      }
    });
    try {
      await expect(archive(file.dentryId)).rejects.toMatchObject({ code: "Transfer.upload" });
    } finally {
      proxy.setHook(file.key, undefined);
      proxy.setFaults(file.key, {});
    }
    expect(proxy.openUploads(file.key)).toEqual([]);
    expect(await sha256OfObject(world.s3, file.key)).toEqual({
      sha256: createHash("sha256").update(foreign).digest("hex"),
      bytes: file.size,
    });
  });

  it("an upload really gone before Complete (aborted elsewhere) still fails cleanly, with no object", async () => {
    const file = newFile(11 * MiB);
    proxy.setHook(file.key, async (m) => {
      if (m.op === "CompleteMultipartUpload" && m.phase === "request" && m.uploadId) {
        await world.s3.send(
          new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: file.key, UploadId: m.uploadId }),
        );
      }
    });
    await expect(archive(file.dentryId)).rejects.toMatchObject({ code: "Transfer.uploadGone" });
    proxy.setHook(file.key, undefined);
    await expect(sha256OfObject(world.s3, file.key)).rejects.toMatchObject({ name: "NoSuchKey" });
  });
});
