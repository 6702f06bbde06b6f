/**
 * The engine's recovery guards, each proven end to end: the real sandbox as DingTalk (behind a lying file
 * host where a test needs lies), the engine, the real SDK, and an S3 — fauxqs, and the sink that answers like
 * S3 (bench/s3-sink.ts, keeping the bytes here). Every object produced is read back and its SHA-256 and size
 * compared with the generated file: fauxqs combines part checksums and the S3 answers agree with a wrongly
 * stitched object, so only the bytes tell. Each test here fails when the guard it names is removed
 * (RELIABILITY.md, "Guards and the tests that catch their removal").
 */
import { createHash, randomBytes } from "node:crypto";
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSink } from "../../bench/s3-sink.js";
import {
  type Checkpoint,
  type CheckpointStore,
  crcOf,
  crcToBase64,
  memoryCheckpointStore,
  TransferError,
  type TransferEvent,
  type TransferOptions,
  transferToS3,
} from "../../lib/transfer/index.js";
import { generatedStream, sha256OfGenerated } from "../../sandbox/content.js";
import { startSandbox } from "../../sandbox/server.js";
import type { Sandbox } from "../../sandbox/types.js";
import { MiB, readBack, sandboxSource, startLyingHost, startS3 } from "./helpers.js";

const FILES = { "forty.bin": 40 * MiB, "twenty.bin": 20 * MiB + 5 } as const;
type FileName = keyof typeof FILES;
const seedOf = (name: string) => `guards-test/${name}`;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    generatedFiles: Object.entries(FILES).map(([name, size]) => ({ name, size, seed: seedOf(name) })),
  });
});
afterAll(() => sandbox.close());

/** An S3 to transfer into, with what a test checks: the object's bytes read back, uploads left open. */
interface Backend {
  s3: S3Client;
  bucket: string;
  readBack(key: string): Promise<{ sha256: string; size: number } | undefined>;
  openUploads(): number;
  close(): Promise<void>;
}

async function fauxqs(): Promise<Backend> {
  const env = await startS3("guards");
  return {
    s3: env.s3,
    bucket: env.bucket,
    readBack: (key) => readBack(env, key),
    openUploads: () => env.leakedUploads().length,
    close: () => env.close(),
  };
}

async function sink(options: Parameters<typeof startSink>[0] = {}): Promise<Backend> {
  const server = await startSink({ keepObjects: true, ...options });
  const s3 = new S3Client({
    endpoint: server.url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
    logger: quiet,
  });
  return {
    s3,
    bucket: "guards",
    async readBack(key) {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: "guards", Key: key }));
        const bytes = Buffer.from(
          await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        );
        return { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
      } catch (err) {
        if ((err as { name?: string }).name === "NoSuchKey") return undefined;
        throw err;
      }
    },
    openUploads: () => server.openUploads(),
    async close() {
      s3.destroy();
      await server.close();
    },
  };
}

const BACKENDS = { fauxqs: () => fauxqs(), sink: () => sink() } as const;

let backend: Backend | undefined;
/** The test's backend, closed after it. */
function use(b: Backend): Backend {
  backend = b;
  return b;
}
afterEach(async () => {
  sandbox.clearFaults();
  await backend?.close();
  backend = undefined;
});

let n = 0;
function transfer(b: Backend, name: FileName, overrides: Partial<TransferOptions> = {}) {
  const events: TransferEvent[] = [];
  const key = overrides.key ?? `g/${++n}/${name}`;
  const promise = transferToS3({
    s3: b.s3,
    bucket: b.bucket,
    key,
    size: FILES[name],
    source: sandboxSource(sandbox, sandbox.dentryIdByPath(name) as string),
    allowedHosts: [sandbox.fileHost],
    allowHttpHosts: [sandbox.fileHost],
    partSize: 5 * MiB,
    concurrency: 2,
    idleTimeoutMs: 2_000,
    backoff: { baseMs: 5, maxMs: 20 },
    ...overrides,
    onEvent: (e) => events.push(e),
  });
  return { key, events, promise };
}

async function expectExact(b: Backend, key: string, name: FileName) {
  expect(await b.readBack(key)).toEqual({
    sha256: await sha256OfGenerated(seedOf(name), FILES[name]),
    size: FILES[name],
  });
}

async function fileBytes(name: FileName): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of generatedStream(seedOf(name), FILES[name])) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe.each(Object.keys(BACKENDS) as Array<keyof typeof BACKENDS>)("guards, into %s", (which) => {
  it("a checkpoint of another part size, whose one part has a length the new plan also has → restart, byte-exact", async () => {
    const b = use(await BACKENDS[which]());
    // 40 MiB in 7 MiB parts: part 6 is the last, 5 MiB (bytes 35-40 MiB). In 5 MiB parts, part 6 is also 5 MiB
    // long (bytes 25-30 MiB): only the checkpoint's part size tells the two apart.
    const key = `g/${++n}/forty.bin`;
    const bytes = (await fileBytes("forty.bin")).subarray(35 * MiB);
    const { UploadId } = await b.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: b.bucket,
        Key: key,
        ChecksumAlgorithm: "CRC32",
        ChecksumType: "FULL_OBJECT",
      }),
    );
    const checksum = crcToBase64("CRC32", crcOf("CRC32", bytes));
    const part = await b.s3.send(
      new UploadPartCommand({
        Bucket: b.bucket,
        Key: key,
        UploadId,
        PartNumber: 6,
        Body: bytes,
        ChecksumCRC32: checksum,
      }),
    );
    const at = new Date().toISOString();
    const store = memoryCheckpointStore();
    const stale: Checkpoint = {
      version: 1,
      bucket: b.bucket,
      key,
      uploadId: UploadId as string,
      size: FILES["forty.bin"],
      partSize: 7 * MiB,
      checksumAlgorithm: "CRC32",
      createdAt: at,
      updatedAt: at,
      parts: [{ partNumber: 6, etag: part.ETag as string, checksum, length: 5 * MiB }],
    };
    await store.save(stale);

    const { events, promise } = transfer(b, "forty.bin", { key, checkpoint: store, concurrency: 4 });
    expect(await promise).toMatchObject({ status: "completed", resumedParts: 0, parts: 8 });
    expect(events).toContainEqual(expect.objectContaining({ type: "restart" }));
    await expectExact(b, key, "forty.bin");
    expect(b.openUploads()).toBe(0); // the stale upload was aborted
  });

  it("a checkpoint made with CRC64NVME, resumed with CRC32 → restart, byte-exact", async () => {
    const b = use(await BACKENDS[which]());
    const store = memoryCheckpointStore();
    let parts = 0;
    const first = transfer(b, "twenty.bin", {
      checkpoint: store,
      checksumAlgorithm: "CRC64NVME",
      concurrency: 1,
      shouldStop: () => parts >= 2,
      onProgress: (p) => {
        parts = p.partsDone;
      },
    });
    expect(await first.promise).toMatchObject({ status: "paused", partsDone: 2 });

    const again = transfer(b, "twenty.bin", {
      key: first.key,
      checkpoint: store,
      checksumAlgorithm: "CRC32",
    });
    expect(await again.promise).toMatchObject({
      status: "completed",
      resumedParts: 0,
      checksumAlgorithm: "CRC32",
    });
    expect(again.events).toContainEqual(expect.objectContaining({ type: "restart" }));
    await expectExact(b, first.key, "twenty.bin");
    expect(b.openUploads()).toBe(0);
  });

  it("a checkpoint save failing while pausing → the pause fails, its upload is aborted, nothing stored", async () => {
    const b = use(await BACKENDS[which]());
    const memory = memoryCheckpointStore();
    let stopping = false;
    const store: CheckpointStore = {
      load: (ref) => memory.load(ref),
      delete: (ref) => memory.delete(ref),
      async save(cp) {
        if (stopping) throw new Error("checkpoint store unavailable");
        await memory.save(cp);
      },
    };
    let parts = 0;
    const { key, promise } = transfer(b, "twenty.bin", {
      checkpoint: store,
      concurrency: 1,
      shouldStop: () => {
        stopping = parts >= 2;
        return stopping;
      },
      onProgress: (p) => {
        parts = p.partsDone;
      },
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect((err as TransferError).message).toMatch(/pausing: saving the checkpoint failed/);
    expect(b.openUploads()).toBe(0);
    expect(await b.readBack(key)).toBeUndefined();
  });

  it.each([
    ["shiftRange", "stream"],
    ["shortBody", "stream"],
    ["shortBody", "buffer"],
  ] as const)(
    "a file host lying once (%s, %s) → the engine itself sees it, fetches the range again, byte-exact",
    async (lie, bodyMode) => {
      const b = use(await BACKENDS[which]());
      const liar = await startLyingHost(sandbox.fileHost);
      try {
        liar.lies.push(lie);
        const { key, events, promise } = transfer(b, "twenty.bin", {
          source: liar.source(sandboxSource(sandbox, sandbox.dentryIdByPath("twenty.bin") as string)),
          allowedHosts: [liar.host],
          allowHttpHosts: [liar.host],
          bodyMode,
        });
        expect(await promise).toMatchObject({ status: "completed" });
        expect(liar.told).toEqual([lie]);
        // The engine itself saw the lie (not S3 refusing what it made of it).
        const retries = events.filter((e) => e.type === "retry");
        expect(retries).toHaveLength(1);
        expect(retries[0]).toMatchObject({
          error: expect.stringMatching(lie === "shiftRange" ? /answered Content-Range/ : /^body truncated/),
        });
        await expectExact(b, key, "twenty.bin");
      } finally {
        await liar.close();
      }
    },
  );
});

describe("guards that need an S3 fauxqs cannot be (the sink)", () => {
  it.each(["stream", "buffer"] as const)(
    "S3 storing a part with other bytes than we checksummed (%s) → the part is sent again, byte-exact",
    async (bodyMode) => {
      const b = use(await sink({ corruptParts: 1 }));
      const { key, events, promise } = transfer(b, "twenty.bin", { bodyMode });
      expect(await promise).toMatchObject({ status: "completed" });
      expect(events).toContainEqual(
        expect.objectContaining({ type: "retry", error: expect.stringMatching(/differs from ours/) }),
      );
      await expectExact(b, key, "twenty.bin");
    },
  );

  it("the streamed fallback (host ignores Range), a part stored with other bytes → streamed again, byte-exact", async () => {
    const b = use(await sink({ corruptParts: 1 }));
    sandbox.addFaults({ api: "file", kind: "ignoreRange" });
    const { key, events, promise } = transfer(b, "twenty.bin");
    expect(await promise).toMatchObject({ status: "completed", method: "stream" });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "retry",
        partNumber: undefined,
        error: expect.stringMatching(/streamed part \d+ differs from ours/),
      }),
    );
    await expectExact(b, key, "twenty.bin");
    expect(b.openUploads()).toBe(0);
  });

  it.each(["CRC32", "CRC64NVME"] as const)(
    "Complete never applied, a foreign object of the same size under the key (%s) → failure, not claimed",
    async (checksumAlgorithm) => {
      const b = use(await sink({ failCompletes: 100 }));
      const key = `g/${++n}/twenty.bin`;
      const foreign = randomBytes(FILES["twenty.bin"]);
      await b.s3.send(new PutObjectCommand({ Bucket: b.bucket, Key: key, Body: foreign }));
      const { promise } = transfer(b, "twenty.bin", { key, checksumAlgorithm });
      const err = await promise.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransferError);
      expect((err as TransferError).message).toMatch(/CompleteMultipartUpload failed/);
      // The other object is left as it was, and our upload is aborted.
      expect(await b.readBack(key)).toEqual({
        sha256: createHash("sha256").update(foreign).digest("hex"),
        size: foreign.length,
      });
      expect(b.openUploads()).toBe(0);
    },
  );

  it.each(["CRC32", "CRC64NVME"] as const)(
    "Complete applied but its answer lost (%s) → our object is recognised, byte-exact",
    async (checksumAlgorithm) => {
      const b = use(await sink({ loseCompleteAnswers: 1 }));
      const { key, promise } = transfer(b, "twenty.bin", { checksumAlgorithm });
      expect(await promise).toMatchObject({ status: "completed", s3Checksum: "match" });
      await expectExact(b, key, "twenty.bin");
      expect(b.openUploads()).toBe(0);
    },
  );
});
