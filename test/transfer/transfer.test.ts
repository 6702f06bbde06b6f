/**
 * End to end: the real sandbox as DingTalk's file host, fauxqs as S3, the engine in between. Every success is
 * checked byte for byte (sha256 of the object read back vs the generated content); every failure is checked
 * to leave no object under the key and no multipart upload behind (S3 calls logged by a client middleware).
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  crcOf,
  fileCheckpointStore,
  memoryCheckpointStore,
  s3CheckpointStore,
  TransferError,
  type TransferEvent,
  type TransferOptions,
  type TransferResult,
  transferToS3,
} from "../../lib/transfer/index.js";
import { generatedStream, sha256OfGenerated } from "../../sandbox/content.js";
import { startSandbox } from "../../sandbox/server.js";
import type { Sandbox } from "../../sandbox/types.js";
import { exists, MiB, readBack, type S3Env, sandboxSource, startS3 } from "./helpers.js";

const FILES = {
  "zero.bin": 0,
  "one.bin": 1,
  "one-part.bin": 5 * MiB,
  "one-part-plus-1.bin": 5 * MiB + 1,
  "forty.bin": 40 * MiB,
  "twenty.bin": 20 * MiB + 12_345,
} as const;
type FileName = keyof typeof FILES;
const seedOf = (name: string) => `transfer-test/${name}`;

let sandbox: Sandbox;
let env: S3Env;
let n = 0;
const expected = new Map<string, string>();

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    generatedFiles: Object.entries(FILES).map(([name, size]) => ({ name, size, seed: seedOf(name) })),
  });
  env = await startS3();
});
afterAll(async () => {
  await sandbox?.close();
  await env?.close();
});
afterEach(() => {
  sandbox.clearFaults();
});

async function run(name: FileName, overrides: Partial<TransferOptions> = {}) {
  const id = sandbox.dentryIdByPath(name);
  if (!id) throw new Error(`no dentry ${name}`);
  const source = sandboxSource(sandbox, id);
  const key = `archive/${++n}/${name}`;
  const events: TransferEvent[] = [];
  const createsBefore = env.count("CreateMultipartUploadCommand");
  const result = await transferToS3({
    s3: env.s3,
    bucket: env.bucket,
    key,
    size: FILES[name],
    contentType: "application/octet-stream",
    source,
    allowedHosts: [sandbox.fileHost],
    allowHttpHosts: [sandbox.fileHost],
    partSize: 5 * MiB, // fauxqs enforces S3's 5 MiB minimum, like S3
    concurrency: 4,
    idleTimeoutMs: 1_000,
    backoff: { baseMs: 10, maxMs: 100 },
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  return { result, key, source, events, creates: env.count("CreateMultipartUploadCommand") - createsBefore };
}

/** Run, expecting a TransferError; returns it and the key used. */
async function runFailing(name: FileName, overrides: Partial<TransferOptions> = {}) {
  const key = `archive/${n + 1}/${name}`;
  try {
    await run(name, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(TransferError);
    return { error: err as TransferError, key };
  }
  throw new Error("the transfer succeeded");
}

async function expectExact(key: string, name: FileName) {
  const size = FILES[name];
  if (!expected.has(name)) expected.set(name, await sha256OfGenerated(seedOf(name), size));
  expect(await readBack(env, key)).toEqual({ sha256: expected.get(name), size });
}

/** The CRC of the generated content, computed independently of the engine. */
async function crcOfFile(name: FileName, algorithm: "CRC32" | "CRC64NVME"): Promise<string> {
  const size = FILES[name];
  const chunks: Buffer[] = [];
  if (size > 0) for await (const c of generatedStream(seedOf(name), size)) chunks.push(c as Buffer);
  const v = crcOf(algorithm, Buffer.concat(chunks));
  const buf = Buffer.alloc(algorithm === "CRC32" ? 4 : 8);
  if (algorithm === "CRC32") buf.writeUInt32BE(Number(v));
  else buf.writeBigUInt64BE(v);
  return buf.toString("base64");
}

function expectNothingLeft(key: string) {
  expect(env.leakedUploads()).toEqual([]);
  return expect(exists(env, key)).resolves.toBe(false);
}

function completed(result: TransferResult) {
  if (result.status !== "completed") throw new Error(`expected completed, got ${result.status}`);
  return result;
}

describe("sizes", () => {
  it.each([
    ["zero.bin", "single", 1],
    ["one.bin", "single", 1],
    ["one-part.bin", "single", 1],
    ["one-part-plus-1.bin", "multipart", 2],
    ["forty.bin", "multipart", 8],
  ] as const)("%s → %s, %i part(s), byte-exact", async (name, method, parts) => {
    const { result, key, creates } = await run(name);
    const done = completed(result);
    expect(done).toMatchObject({ method, parts, size: FILES[name], bytesResent: 0, resumedParts: 0 });
    expect(creates).toBe(method === "multipart" ? 1 : 0);
    expect(done.checksum).toBe(await crcOfFile(name, "CRC32"));
    await expectExact(key, name);
    expect(env.leakedUploads()).toEqual([]);
  });

  it("sends the full-object CRC with every S3 call; fauxqs answers a composite one for multipart", async () => {
    const { result, events } = await run("one-part-plus-1.bin");
    const done = completed(result);
    // fauxqs ignores ChecksumType FULL_OBJECT and combines part checksums into a COMPOSITE "…-2".
    expect(done.s3Checksum).toBe("unavailable");
    expect(events).toContainEqual(expect.objectContaining({ type: "checksumUnverified" }));
    // A single PutObject's checksum is echoed back as sent.
    expect(completed((await run("one.bin")).result).s3Checksum).toBe("match");
  });

  it.each(["buffer", "stream"] as const)("body mode %s is byte-exact, CRC64NVME too", async (bodyMode) => {
    const { result, key } = await run("twenty.bin", { bodyMode, checksumAlgorithm: "CRC64NVME" });
    expect(completed(result).checksum).toBe(await crcOfFile("twenty.bin", "CRC64NVME"));
    await expectExact(key, "twenty.bin");
  });

  it("reports progress per part, ending at the total", async () => {
    const seen: number[] = [];
    await run("twenty.bin", { onProgress: (p) => seen.push(p.bytesDone) });
    expect(seen).toHaveLength(5);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(FILES["twenty.bin"]);
  });
});

describe("faults on the file host, one at a time", () => {
  it("a host ignoring Range → one streamed GET cut into parts; the started multipart is aborted", async () => {
    sandbox.addFaults({ api: "file", kind: "ignoreRange" });
    const aborts = env.count("AbortMultipartUploadCommand");
    const { result, key, events, creates } = await run("forty.bin");
    expect(completed(result).method).toBe("stream");
    // The ranged one (created before the first range answered 200) is aborted; the stream's own one is completed.
    expect(creates).toBe(2);
    expect(env.count("AbortMultipartUploadCommand")).toBe(aborts + 1);
    expect(events.map((e) => e.type)).toContain("fallback");
    await expectExact(key, "forty.bin");
    expect(env.leakedUploads()).toEqual([]);
  });

  it("the fallback with CRC64NVME: byte-exact, S3's checksum reported as not confirmed", async () => {
    sandbox.addFaults({ api: "file", kind: "ignoreRange" });
    const { result, key } = await run("twenty.bin", { checksumAlgorithm: "CRC64NVME" });
    expect(completed(result)).toMatchObject({
      method: "stream",
      checksum: await crcOfFile("twenty.bin", "CRC64NVME"),
      s3Checksum: "unavailable",
    });
    await expectExact(key, "twenty.bin");
  });

  it("the fallback's streamed GET failing mid-way → its upload is aborted, the GET is retried", async () => {
    sandbox.addFaults(
      { api: "file", kind: "ignoreRange" },
      { api: "file", kind: "truncate", afterBytes: 12 * MiB, times: 2 },
    );
    const { result, key, events } = await run("twenty.bin", { concurrency: 1 });
    expect(completed(result).method).toBe("stream");
    // The retry is of the whole file (no part number): the fallback's GET was truncated.
    expect(events).toContainEqual(expect.objectContaining({ type: "retry", partNumber: undefined }));
    await expectExact(key, "twenty.bin");
    expect(env.leakedUploads()).toEqual([]);
  });

  it("a URL refused as expired (403) → fresh download info, the remaining parts continue", async () => {
    sandbox.addFaults({ api: "file", kind: "urlExpired", times: 2 });
    const { result, key, source, events } = await run("twenty.bin");
    expect(completed(result).bytesResent).toBe(0);
    expect(source.calls).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.type === "refresh")).toHaveLength(2);
    await expectExact(key, "twenty.bin");
  });

  it.each([
    ["dropConnection", { afterBytes: 1 * MiB }],
    ["truncate", { afterBytes: 2 * MiB }],
    ["stall", { afterBytes: 100_000, latencyMs: 20_000 }],
    ["systemError", {}],
  ] as const)("%s mid-part → that part is fetched again, byte-exact", async (kind, extra) => {
    sandbox.addFaults({ api: "file", kind, times: 2, ...extra });
    const started = Date.now();
    const { result, key, events } = await run("twenty.bin");
    const done = completed(result);
    expect(events.filter((e) => e.type === "retry")).toHaveLength(2);
    if (kind !== "systemError") expect(done.bytesResent).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(10_000); // a stall costs the idle timeout, not 20 s
    await expectExact(key, "twenty.bin");
    expect(env.leakedUploads()).toEqual([]);
  });

  it("a URL that keeps failing → the next resourceUrl", async () => {
    sandbox.addFaults({ api: "file", kind: "systemError", urlIndex: 0 });
    const { result, key } = await run("twenty.bin");
    expect(completed(result).method).toBe("multipart");
    await expectExact(key, "twenty.bin");
  });

  it.each([404, 410, 400])(
    "a resourceUrl answering %i → the next resourceUrl before the part fails",
    async (status) => {
      sandbox.addFaults({ api: "file", kind: "error", status, code: "NoSuchKey", urlIndex: 0 });
      const { result, key, events } = await run("twenty.bin");
      expect(completed(result).method).toBe("multipart");
      await expectExact(key, "twenty.bin");
      // Switched after the first refusal: at most the parts already in flight on the first URL try again.
      const retries = events.filter((e) => e.type === "retry").length;
      expect(retries).toBeGreaterThanOrEqual(1);
      expect(retries).toBeLessThanOrEqual(4);
    },
  );

  it("every resourceUrl answering 404 fails the part as sourceRejected, each URL asked once", async () => {
    sandbox.addFaults({ api: "file", kind: "error", status: 404, code: "NoSuchKey" });
    const before = sandbox.calls().file;
    const { error } = await runFailing("twenty.bin", { concurrency: 1 });
    expect(error).toMatchObject({ reason: "sourceRejected", status: 404 });
    expect(sandbox.calls().file - before).toBe(2);
  });

  it("short-lived URLs are refreshed before they expire", async () => {
    const slow = await startSandbox({
      port: 0,
      urlTtlSeconds: 2,
      bandwidthBytesPerSecond: 5 * MiB,
      generatedFiles: [{ name: "twenty.bin", size: FILES["twenty.bin"], seed: seedOf("twenty.bin") }],
    });
    try {
      const source = sandboxSource(slow, slow.dentryIdByPath("twenty.bin") as string);
      const key = "archive/short-ttl/twenty.bin";
      const result = await transferToS3({
        s3: env.s3,
        bucket: env.bucket,
        key,
        size: FILES["twenty.bin"],
        source,
        allowedHosts: [slow.fileHost],
        allowHttpHosts: [slow.fileHost],
        partSize: 5 * MiB,
        concurrency: 2,
      });
      completed(result);
      expect(source.calls).toBeGreaterThanOrEqual(2);
      await expectExact(key, "twenty.bin");
    } finally {
      await slow.close();
    }
  });
});

describe("clean failures", () => {
  it("a range failing every attempt → TransferError, multipart aborted, no object", async () => {
    sandbox.addFaults({ api: "file", kind: "systemError" });
    const { error, key } = await runFailing("twenty.bin", { attempts: 3 });
    expect(error.reason).toBe("download");
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/part \d+ failed after 3 attempts/);
    expect(error.message).not.toMatch(/Expires=|Signature|OSS sandbox/);
    await expectNothingLeft(key);
  });

  it("a size different from DingTalk's → sizeMismatch, nothing left", async () => {
    const { error, key } = await runFailing("twenty.bin", { size: FILES["twenty.bin"] + 1 });
    expect(error.reason).toBe("sizeMismatch");
    await expectNothingLeft(key);
  });

  it("a host that is not allowed → refused before any S3 call", async () => {
    const calls = env.calls.length;
    const { error } = await runFailing("twenty.bin", { allowedHosts: ["*.dingtalk.com"] });
    expect(error.reason).toBe("hostNotAllowed");
    expect(error.message).toContain(sandbox.fileHost);
    const http = await runFailing("twenty.bin", { allowHttpHosts: [] });
    expect(http.error.message).toMatch(/plain http/);
    expect(env.calls.length).toBe(calls);
  });

  it("the caller's AbortSignal → aborted, multipart aborted, no object", async () => {
    const controller = new AbortController();
    sandbox.addFaults({ api: "file", kind: "latency", latencyMs: 300 });
    setTimeout(() => controller.abort(), 150);
    const { error, key } = await runFailing("twenty.bin", { signal: controller.signal });
    expect(error.reason).toBe("aborted");
    await expectNothingLeft(key);
  });
});

describe("pause and resume", () => {
  it("a single PutObject is not paused, even between attempts; throwing callbacks are ignored", async () => {
    sandbox.addFaults({ api: "file", kind: "systemError", times: 1 });
    const { result, key } = await run("one.bin", {
      shouldStop: () => true,
      onEvent: () => {
        throw new Error("logger broken");
      },
      onProgress: () => {
        throw new Error("progress bar broken");
      },
    });
    expect(completed(result).method).toBe("single");
    await expectExact(key, "one.bin");
  });

  it("shouldStop before the first part → paused with no parts; resuming sends them all", async () => {
    const store = memoryCheckpointStore();
    const first = await run("twenty.bin", { checkpoint: store, shouldStop: () => true });
    expect(first.result).toMatchObject({ status: "paused", partsDone: 0, partsTotal: 5 });
    const again = await transferToS3({
      s3: env.s3,
      bucket: env.bucket,
      key: first.key,
      size: FILES["twenty.bin"],
      source: first.source,
      allowedHosts: [sandbox.fileHost],
      allowHttpHosts: [sandbox.fileHost],
      partSize: 5 * MiB,
      checkpoint: store,
    });
    expect(completed(again).resumedParts).toBe(0);
    await expectExact(first.key, "twenty.bin");
    expect(env.leakedUploads()).toEqual([]);
  });

  it("shouldStop → paused with a checkpoint; the next call sends only the missing parts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "transfer-resume-"));
    try {
      const store = fileCheckpointStore(dir);
      const key = "archive/resume/forty.bin";
      const id = sandbox.dentryIdByPath("forty.bin") as string;
      const base = {
        s3: env.s3,
        bucket: env.bucket,
        key,
        size: FILES["forty.bin"],
        allowedHosts: [sandbox.fileHost],
        allowHttpHosts: [sandbox.fileHost],
        partSize: 5 * MiB,
        concurrency: 2,
        checkpoint: store,
        sourceVersion: 1,
      };
      let parts = 0;
      const first = await transferToS3({
        ...base,
        source: sandboxSource(sandbox, id),
        shouldStop: () => parts >= 3,
        onProgress: (p) => {
          parts = p.partsDone;
        },
      });
      expect(first.status).toBe("paused");
      if (first.status !== "paused") return;
      expect(first.partsDone).toBeGreaterThanOrEqual(3);
      expect(first.partsDone).toBeLessThan(8);
      expect(await exists(env, key)).toBe(false);
      expect(await store.load({ bucket: env.bucket, key })).toEqual(first.checkpoint);
      const uploadId = first.checkpoint.uploadId;
      expect(env.leakedUploads()).toEqual([uploadId]); // kept open on purpose

      const events: TransferEvent[] = [];
      const second = completed(
        await transferToS3({ ...base, source: sandboxSource(sandbox, id), onEvent: (e) => events.push(e) }),
      );
      expect(second.resumedParts).toBe(first.partsDone);
      expect(events[0]).toMatchObject({ type: "resume", uploadId, partsDone: first.partsDone });
      const sent = env.partsSent(uploadId).sort((a, b) => a - b);
      expect(sent).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // every part exactly once over both calls
      await expectExact(key, "forty.bin");
      expect(env.leakedUploads()).toEqual([]);
      expect(await readdir(dir)).toEqual([]); // checkpoint deleted on completion
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a checkpoint (in S3, throttled) whose upload is gone → starts over cleanly", async () => {
    const store = s3CheckpointStore({ s3: env.s3, bucket: env.bucket });
    const opts = { checkpoint: store, concurrency: 1 };
    let stop = false;
    const first = await run("twenty.bin", {
      ...opts,
      shouldStop: () => stop,
      onProgress: () => {
        stop = true;
      },
    });
    expect(first.result.status).toBe("paused");
    if (first.result.status !== "paused") return;
    const { AbortMultipartUploadCommand } = await import("@aws-sdk/client-s3");
    await env.s3.send(
      new AbortMultipartUploadCommand({
        Bucket: env.bucket,
        Key: first.key,
        UploadId: first.result.checkpoint.uploadId,
      }),
    );
    // Same key again: the engine finds the checkpoint, its upload answers NoSuchUpload, it restarts.
    const events: TransferEvent[] = [];
    const again = await transferToS3({
      s3: env.s3,
      bucket: env.bucket,
      key: first.key,
      size: FILES["twenty.bin"],
      source: first.source,
      allowedHosts: [sandbox.fileHost],
      allowHttpHosts: [sandbox.fileHost],
      partSize: 5 * MiB,
      checkpoint: store,
      onEvent: (e) => events.push(e),
    });
    expect(completed(again).resumedParts).toBe(0);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["resume", "restart"]));
    await expectExact(first.key, "twenty.bin");
    expect(env.leakedUploads()).toEqual([]);
  });

  it("a checkpoint for another version or part size → its upload is aborted, a fresh one is used", async () => {
    const store = memoryCheckpointStore();
    let stop = false;
    const first = await run("twenty.bin", {
      checkpoint: store,
      concurrency: 1,
      sourceVersion: 1,
      shouldStop: () => stop,
      onProgress: () => {
        stop = true;
      },
    });
    expect(first.result.status).toBe("paused");
    const again = await transferToS3({
      s3: env.s3,
      bucket: env.bucket,
      key: first.key,
      size: FILES["twenty.bin"],
      source: first.source,
      sourceVersion: 2,
      allowedHosts: [sandbox.fileHost],
      allowHttpHosts: [sandbox.fileHost],
      partSize: 5 * MiB,
      checkpoint: store,
    });
    expect(completed(again).resumedParts).toBe(0);
    expect(env.leakedUploads()).toEqual([]);
    await expectExact(first.key, "twenty.bin");
  });
});

it("hash helper sanity: the sandbox serves what sha256OfGenerated describes", async () => {
  const chunks: Buffer[] = [];
  for await (const c of generatedStream(seedOf("one.bin"), 1)) chunks.push(c as Buffer);
  expect(createHash("sha256").update(Buffer.concat(chunks)).digest("hex")).toBe(
    await sha256OfGenerated(seedOf("one.bin"), 1),
  );
});
