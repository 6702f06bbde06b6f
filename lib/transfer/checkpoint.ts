/**
 * Our own record of a multipart upload's completed parts, so a transfer paused near Lambda's 15-minute limit
 * (or killed) continues in a new invocation without re-sending them. It does not rely on ListParts: the local
 * emulator has none, and the record also holds what ListParts cannot give back — each part's CRC and length,
 * needed to combine the full-object checksum.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as z from "../schema";
import { CHECKSUM_ALGORITHMS } from "./checksum.js";

const checkpointSchema = z.object({
  version: z.literal(1),
  bucket: z.string().check(z.minLength(1)),
  key: z.string().check(z.minLength(1)),
  uploadId: z.string().check(z.minLength(1)),
  size: z.number().check(z.int(), z.nonnegative()),
  partSize: z.number().check(z.int(), z.positive()),
  checksumAlgorithm: z.enum(CHECKSUM_ALGORITHMS as ["CRC32", "CRC64NVME"]),
  /** DingTalk's file version the parts came from: a new version must not be stitched onto old parts. */
  sourceVersion: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  parts: z.array(
    z.object({
      partNumber: z.number().check(z.int(), z.minimum(1), z.maximum(10_000)),
      etag: z.string().check(z.minLength(1)),
      /** The part's CRC, base64 as S3 shows it: with `length`, all that is needed to combine the object's CRC. */
      checksum: z.string().check(z.minLength(1)),
      length: z.number().check(z.int(), z.positive()),
    }),
  ),
});

export type Checkpoint = z.output<typeof checkpointSchema>;
export type CheckpointPart = Checkpoint["parts"][number];
export interface CheckpointRef {
  bucket: string;
  key: string;
}

export interface CheckpointStore {
  load(ref: CheckpointRef): Promise<Checkpoint | undefined>;
  save(checkpoint: Checkpoint): Promise<void>;
  delete(ref: CheckpointRef): Promise<void>;
  /** Saves closer together than this are coalesced (the latest state wins). 0 or absent: save every change. */
  readonly minSaveIntervalMs?: number;
}

/** A checkpoint's stored form, or undefined when it is not one (corrupt, older format): then start over. */
export function parseCheckpoint(text: string): Checkpoint | undefined {
  try {
    const parsed = checkpointSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A short stable name for the checkpoint of bucket/key (S3 keys can be 1,024 bytes; file names cannot). */
export function checkpointName(ref: CheckpointRef): string {
  return `${createHash("sha256").update(`${ref.bucket}\0${ref.key}`).digest("hex")}.json`;
}

/** For the CLI: one JSON file per target in `dir`, replaced atomically (temp file + rename) on every save. */
export function fileCheckpointStore(dir: string): CheckpointStore {
  const pathOf = (ref: CheckpointRef) => join(dir, checkpointName(ref));
  return {
    minSaveIntervalMs: 0,
    async load(ref) {
      try {
        return parseCheckpoint(await readFile(pathOf(ref), "utf8"));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async save(cp) {
      await mkdir(dir, { recursive: true });
      const target = pathOf(cp);
      const temp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      try {
        await writeFile(temp, JSON.stringify(cp));
        await rename(temp, target);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async delete(ref) {
      await rm(pathOf(ref), { force: true });
    },
  };
}

export interface S3CheckpointStoreOptions {
  s3: S3Client;
  bucket: string;
  /** Key prefix of the checkpoint objects. Default ".checkpoints/". */
  prefix?: string;
  /** Default 1,000 ms: at ≥ 8 MiB a part, a save per part is cheap, but 64 parallel parts need not be 64 PUTs/s. */
  minSaveIntervalMs?: number;
}

/** For Lambda: a small JSON object per target under `.checkpoints/` (no local disk survives an invocation). */
export function s3CheckpointStore(options: S3CheckpointStoreOptions): CheckpointStore {
  const { s3, bucket } = options;
  const prefix = options.prefix ?? ".checkpoints/";
  const keyOf = (ref: CheckpointRef) => `${prefix}${checkpointName(ref)}`;
  return {
    minSaveIntervalMs: options.minSaveIntervalMs ?? 1000,
    async load(ref) {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(ref) }));
        return res.Body ? parseCheckpoint(await res.Body.transformToString()) : undefined;
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === "NoSuchKey" || name === "NotFound") return undefined;
        throw err;
      }
    },
    async save(cp) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyOf(cp),
          Body: JSON.stringify(cp),
          ContentType: "application/json",
        }),
      );
    },
    async delete(ref) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(ref) }));
    },
  };
}

/** For tests and for callers that keep the paused result themselves. */
export function memoryCheckpointStore(): CheckpointStore & { readonly saves: number } {
  const map = new Map<string, string>();
  let saves = 0;
  return {
    get saves() {
      return saves;
    },
    async load(ref) {
      const text = map.get(checkpointName(ref));
      return text === undefined ? undefined : parseCheckpoint(text);
    },
    async save(cp) {
      saves++;
      map.set(checkpointName(cp), JSON.stringify(cp));
    },
    async delete(ref) {
      map.delete(checkpointName(ref));
    },
  };
}

/**
 * Saves a changing checkpoint without blocking the transfer: one write at a time, the latest state wins,
 * at most one write per store.minSaveIntervalMs. flush() writes what is pending and reports a failure
 * (a paused transfer whose checkpoint was not written could not be resumed).
 */
export class CheckpointSaver {
  private pending: Checkpoint | undefined;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWriteAt = 0;
  private lastError: unknown;
  /** Version of the latest update(), and callers waiting for a version to be written. */
  private version = 0;
  private waiters: Array<{ version: number; resolve: () => void }> = [];

  constructor(
    private readonly store: CheckpointStore,
    /** Told of each failed background save (the transfer goes on; only a failed flush() is fatal). */
    private readonly onError: (err: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Replace the state to save. The promise resolves once a write of this state (or a later one) has ended,
   * whether it succeeded or not (failures go to onError, and to flush()).
   */
  update(cp: Checkpoint): Promise<void> {
    this.pending = cp;
    const version = ++this.version;
    const written = new Promise<void>((resolve) => this.waiters.push({ version, resolve }));
    this.schedule();
    return written;
  }

  /** Write whatever is pending now; rejects if the last write failed. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.writing || this.pending) {
      if (!this.writing) this.startWriting();
      await this.writing;
    }
    if (this.lastError !== undefined) throw this.lastError;
  }

  /** Stop scheduled writes and wait for a running one (before deleting the checkpoint). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    await this.writing;
    this.release(Number.POSITIVE_INFINITY);
  }

  private schedule(): void {
    if (this.writing || this.timer || !this.pending) return;
    const wait = this.lastWriteAt + (this.store.minSaveIntervalMs ?? 0) - this.now();
    if (wait <= 0) {
      this.startWriting();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.writing) this.startWriting();
    }, wait);
    this.timer.unref();
  }

  private startWriting(): void {
    this.writing = (async () => {
      while (this.pending) {
        const cp = this.pending;
        const version = this.version;
        this.pending = undefined;
        this.lastWriteAt = this.now();
        try {
          await this.store.save(cp);
          this.lastError = undefined;
        } catch (err) {
          this.lastError = err;
          this.onError(err);
        }
        this.release(version);
        if (this.pending && (this.store.minSaveIntervalMs ?? 0) > 0) break; // the next one waits its turn
      }
    })().finally(() => {
      this.writing = undefined;
      this.schedule();
    });
  }

  private release(version: number): void {
    const ready = this.waiters.filter((w) => w.version <= version);
    this.waiters = this.waiters.filter((w) => w.version > version);
    for (const w of ready) w.resolve();
  }
}
