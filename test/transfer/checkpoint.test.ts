import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckpointSaver } from "../../lib/transfer/checkpoint.js";
import {
  type Checkpoint,
  type CheckpointStore,
  checkpointName,
  fileCheckpointStore,
  memoryCheckpointStore,
  s3CheckpointStore,
} from "../../lib/transfer/index.js";
import { type S3Env, startS3 } from "./helpers.js";

const ref = { bucket: "archive", key: "dingtalk/space/报告 2026.pdf" };
function checkpoint(parts = 2): Checkpoint {
  return {
    version: 1,
    ...ref,
    uploadId: "upload-1",
    size: 20 * 1024 * 1024,
    partSize: 8 * 1024 * 1024,
    checksumAlgorithm: "CRC32",
    sourceVersion: "3",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:01.000Z",
    parts: Array.from({ length: parts }, (_, i) => ({
      partNumber: i + 1,
      etag: `"etag-${i + 1}"`,
      checksum: "AAAAAA==",
      length: 8 * 1024 * 1024,
    })),
  };
}

/** The same behaviour from every store. */
function storeContract(name: string, make: () => CheckpointStore) {
  describe(`${name} store`, () => {
    it("loads nothing before a save, the saved checkpoint after, nothing after delete", async () => {
      const store = make();
      expect(await store.load(ref)).toBeUndefined();
      await store.save(checkpoint(1));
      await store.save(checkpoint(2)); // replaces
      expect(await store.load(ref)).toEqual(checkpoint(2));
      expect(await store.load({ ...ref, key: "other" })).toBeUndefined();
      await store.delete(ref);
      expect(await store.load(ref)).toBeUndefined();
      await store.delete(ref); // deleting twice is fine
    });
  });
}

let dir: string;
let env: S3Env;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "transfer-cp-"));
  env = await startS3();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await env.close();
});

storeContract("memory", () => memoryCheckpointStore());
storeContract("file", () => fileCheckpointStore(join(dir, "contract")));
storeContract("S3", () => s3CheckpointStore({ s3: env.s3, bucket: env.bucket }));

describe("file store", () => {
  it("writes atomically: one JSON file named by a hash of bucket and key, no temp file left", async () => {
    const sub = join(dir, "atomic");
    const store = fileCheckpointStore(sub);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(checkpoint(1 + (i % 3)))));
    const files = await readdir(sub);
    expect(files).toEqual([checkpointName(ref)]);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.json$/);
    expect(JSON.parse(await readFile(join(sub, files[0] as string), "utf8")).uploadId).toBe("upload-1");
  });

  it("treats a corrupt or foreign file as no checkpoint", async () => {
    const sub = join(dir, "corrupt");
    const store = fileCheckpointStore(sub);
    await store.save(checkpoint());
    await writeFile(join(sub, checkpointName(ref)), "{ not json");
    expect(await store.load(ref)).toBeUndefined();
    await writeFile(join(sub, checkpointName(ref)), JSON.stringify({ ...checkpoint(), version: 2 }));
    expect(await store.load(ref)).toBeUndefined();
  });
});

describe("S3 store", () => {
  it("keeps checkpoints as small JSON objects under .checkpoints/", async () => {
    const store = s3CheckpointStore({ s3: env.s3, bucket: env.bucket });
    await store.save(checkpoint());
    const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
    const list = await env.s3.send(new ListObjectsV2Command({ Bucket: env.bucket, Prefix: ".checkpoints/" }));
    expect(list.Contents?.map((o) => o.Key)).toEqual([`.checkpoints/${checkpointName(ref)}`]);
    expect(store.minSaveIntervalMs).toBe(1000);
    await store.delete(ref);
  });
});

describe("CheckpointSaver", () => {
  /** A store that records saves and can be slowed or made to fail. */
  function slowStore(interval: number) {
    const saved: number[] = [];
    let fail = false;
    const store: CheckpointStore = {
      minSaveIntervalMs: interval,
      load: async () => undefined,
      delete: async () => {},
      async save(cp) {
        await new Promise((r) => setTimeout(r, 5));
        if (fail) throw new Error("disk full");
        saved.push(cp.parts.length);
      },
    };
    return {
      store,
      saved,
      setFail(v: boolean) {
        fail = v;
      },
    };
  }

  it("with no interval, saves in order and coalesces to the latest state", async () => {
    const s = slowStore(0);
    const saver = new CheckpointSaver(s.store);
    for (let n = 1; n <= 10; n++) saver.update(checkpoint(n));
    await saver.flush();
    expect(s.saved[0]).toBe(1);
    expect(s.saved.at(-1)).toBe(10);
    expect(s.saved).toEqual([...s.saved].sort((a, b) => a - b));
    expect(s.saved.length).toBeLessThan(10);
  });

  it("with an interval, writes at most once per interval, then the latest on flush", async () => {
    const s = slowStore(200);
    const saver = new CheckpointSaver(s.store);
    const started = Date.now();
    for (let n = 1; n <= 30; n++) {
      saver.update(checkpoint(n));
      await new Promise((r) => setTimeout(r, 10));
    }
    const elapsed = Date.now() - started;
    await saver.flush();
    expect(s.saved.at(-1)).toBe(30);
    expect(s.saved.length).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 2);
  });

  it("update() resolves once its state (or a later one) is written", async () => {
    const s = slowStore(0);
    const saver = new CheckpointSaver(s.store);
    await saver.update(checkpoint(1));
    expect(s.saved).toEqual([1]);
    const a = saver.update(checkpoint(2));
    const b = saver.update(checkpoint(3));
    await a;
    expect(s.saved.at(-1)).toBeGreaterThanOrEqual(2);
    await b;
    expect(s.saved.at(-1)).toBe(3);

    const throttled = slowStore(100);
    const later = new CheckpointSaver(throttled.store);
    await later.update(checkpoint(1));
    const started = Date.now();
    await later.update(checkpoint(2)); // waits for the interval
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
    expect(throttled.saved).toEqual([1, 2]);
  });

  it("flush reports a failed save; close drops what is pending", async () => {
    const s = slowStore(0);
    const errors: unknown[] = [];
    const saver = new CheckpointSaver(s.store, (err) => errors.push(err));
    s.setFail(true);
    saver.update(checkpoint(1));
    await expect(saver.flush()).rejects.toThrow("disk full");
    expect(errors).toHaveLength(1);
    s.setFail(false);
    saver.update(checkpoint(2));
    await saver.flush();
    expect(s.saved).toEqual([2]);
    saver.update(checkpoint(3));
    await saver.close();
    expect(s.saved.at(-1)).toBeGreaterThanOrEqual(2);
  });
});
