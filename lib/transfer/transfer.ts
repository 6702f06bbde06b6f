/**
 * transferToS3: copy one file from a signed-URL file host (DingTalk) into S3.
 *
 *   plan ranges ─► for each part, `concurrency` at a time: GET range (checked) ─► UploadPart (with its CRC)
 *               ─► combine part CRCs ─► CompleteMultipartUpload with the full-object CRC (S3 checks it)
 *
 * A file of at most one part goes with one PutObject. A host that ignores Range gets one streamed GET
 * cut into parts instead. Every outcome is either a complete, checksum-verified object, a clean
 * failure (multipart aborted, nothing under the key), or — when shouldStop() says time is up — "paused"
 * with a checkpoint from which a later call continues without re-sending completed parts.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { Agent, type Dispatcher } from "undici";
import { type Checkpoint, type CheckpointPart, CheckpointSaver, type CheckpointStore } from "./checkpoint.js";
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  combineParts,
  crcFromBase64,
  crcToBase64,
} from "./checksum.js";
import { awsChunkedBody } from "./chunked-body.js";
import { describe, TransferError } from "./errors.js";
import { type PartPlan, type PartRange, planParts } from "./plan.js";
import { FetchProblem, openRange, type PartTap, readInto } from "./range-fetch.js";
import { type CurrentInfo, type DownloadSource, SourceState } from "./source.js";
import {
  abortMultipart,
  completeOrFind,
  createMultipart,
  isChecksumMismatch,
  isNoSuchUpload,
  isRetryableS3,
  type ObjectTarget,
  putSingle,
  type StoredObject,
  s3Status,
  uploadPart,
  uploadPartChunked,
  uploadStream,
} from "./upload.js";

export interface TransferProgress {
  bytesDone: number;
  partsDone: number;
  partsTotal: number;
  /** Bytes of completed parts per second, over this call (resumed parts not counted). */
  bytesPerSecond: number;
}

/** Recoverable things worth a log line. Never carries a signed URL's query or headers. */
export type TransferEvent =
  | { type: "retry"; partNumber: number | undefined; attempt: number; error: string }
  | { type: "refresh"; partNumber: number | undefined; error: string }
  | { type: "fallback"; error: string }
  | { type: "resume"; uploadId: string; partsDone: number }
  | { type: "restart"; reason: string }
  | { type: "checkpointError"; error: string }
  | { type: "cleanupError"; error: string }
  | { type: "checksumUnverified"; detail: string };

/** How each part's bytes reach UploadPart; "auto" (the default) decides by chooseBodyMode. */
export type BodyMode = "buffer" | "stream" | "auto";

export interface TransferOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  /** DingTalk's size of the file; the object must end up exactly this long. */
  size: number;
  contentType?: string | undefined;
  metadata?: Record<string, string> | undefined;
  source: DownloadSource;
  /** DingTalk's version of the file, kept in the checkpoint so a new version never resumes onto old parts. */
  sourceVersion?: string | number | undefined;
  /** Hosts download URLs may point at: `host`, `host:port` or `*.suffix`. https only, unless also in allowHttpHosts. */
  allowedHosts: readonly string[];
  allowHttpHosts?: readonly string[] | undefined;
  /** Default 8 MiB, min 5 MiB; grown so no file needs more than 10,000 parts. */
  partSize?: number | undefined;
  /** Parts in flight at once. Default 8. */
  concurrency?: number | undefined;
  /** Default CRC32 (computed by native zlib, ~10× cheaper than CRC64NVME in JS). */
  checksumAlgorithm?: ChecksumAlgorithm | undefined;
  bodyMode?: BodyMode | undefined;
  checkpoint?: CheckpointStore | undefined;
  /** Checked before each new part (and before a retry): true = finish the parts in flight, then pause. */
  shouldStop?: (() => boolean) | undefined;
  onProgress?: ((p: TransferProgress) => void) | undefined;
  onEvent?: ((e: TransferEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Connection pool for the downloads. Default: an undici Agent created (and closed) by this call. */
  dispatcher?: Dispatcher | undefined;
  /** Attempts per part (each re-fetches the range). Default 5. */
  attempts?: number | undefined;
  /** Backoff between attempts: full jitter on base·2^n, capped. Defaults 200 ms, 5 s. */
  backoff?: { baseMs?: number; maxMs?: number } | undefined;
  /** Wait for response headers, and max silence inside a body (a stalled part). Defaults 30 s, 30 s. */
  headersTimeoutMs?: number | undefined;
  idleTimeoutMs?: number | undefined;
  /** Refresh download info before starting a part when fewer seconds remain. Default 60. */
  expiryMarginSeconds?: number | undefined;
}

export interface CompletedTransfer {
  status: "completed";
  bucket: string;
  key: string;
  size: number;
  etag: string;
  versionId: string | undefined;
  checksumAlgorithm: ChecksumAlgorithm;
  /** The full-object CRC computed while streaming, base64 as S3 shows it. */
  checksum: string;
  /** "match": S3 answered the same full-object checksum. "unavailable": S3 answered none or a composite one. */
  s3Checksum: "match" | "unavailable";
  /** single = one PutObject; multipart = ranged parts; stream = the host ignored Range, one streamed GET. */
  method: "single" | "multipart" | "stream";
  parts: number;
  partSize: number;
  /** Parts taken over from a checkpoint rather than sent by this call. */
  resumedParts: number;
  /** Bytes downloaded more than once (failed attempts, or parts redone after a fallback or restart). */
  bytesResent: number;
  seconds: number;
}

export interface PausedTransfer {
  status: "paused";
  checkpoint: Checkpoint;
  partsDone: number;
  partsTotal: number;
  bytesDone: number;
  seconds: number;
}

export type TransferResult = CompletedTransfer | PausedTransfer;

/**
 * How parts reach UploadPart when bodyMode is "auto" (measured with test/transfer/measure/body-mode.ts: 256 MiB
 * and 1 GiB files, 8 MiB parts, concurrency 8, sandbox and a discarding S3 sink in child processes, 2 cores):
 *
 *                       local, unlimited            20 MiB/s per connection, 20 ms S3 latency
 *   CRC32     buffer    262-314 MiB/s  ~125 MiB     127-130 MiB/s
 *             stream    322-366 MiB/s   ~70 MiB     133-148 MiB/s   (and 10-15 % less CPU)
 *   CRC64NVME buffer    194-207 MiB/s  ~125 MiB     127-129 MiB/s
 *             stream    140-147 MiB/s   ~60 MiB      86-138 MiB/s   (1.5× the CPU: the SDK computes the
 *                                                                   trailer CRC-64 in JS on top of ours)
 * (MiB = peak Buffer memory, the same for 256 MiB and 1 GiB files.) So: stream with CRC32 — faster, cheaper,
 * half the memory; buffer with CRC64NVME while concurrency × part size ≤ MAX_BUFFERED_BYTES, stream above it
 * (a 5 TiB file has 525 MiB parts). Buffering also lets the SDK retry a failed UploadPart itself; a streamed
 * part is retried by the engine, which fetches the range again.
 */
export const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

export function chooseBodyMode(
  mode: BodyMode,
  algorithm: ChecksumAlgorithm,
  concurrency: number,
  partSize: number,
): "buffer" | "stream" {
  if (mode !== "auto") return mode;
  return algorithm === "CRC64NVME" && concurrency * partSize <= MAX_BUFFERED_BYTES ? "buffer" : "stream";
}

export const DEFAULT_CONCURRENCY = 8;

/** Thrown inside a worker to stop taking parts: shouldStop() turned true while a part was between attempts. */
class StopSignal extends Error {}

/** Everything one call shares between its workers. */
interface Run {
  opts: TransferOptions;
  target: ObjectTarget;
  plan: PartPlan;
  algorithm: ChecksumAlgorithm;
  concurrency: number;
  attempts: number;
  buffer: boolean;
  src: SourceState;
  dispatcher: Dispatcher;
  /** Aborted on the caller's signal. (Each pool of parts has its own, aborted on its first fatal error.) */
  inner: AbortController;
  startedAt: number;
  bytesDownloaded: number;
  resumedBytes: number;
  pool: Buffer[];
}

export async function transferToS3(options: TransferOptions): Promise<TransferResult> {
  const opts = withSafeCallbacks(options);
  const algorithm = opts.checksumAlgorithm ?? "CRC32";
  if (!CHECKSUM_ALGORITHMS.includes(algorithm)) {
    throw new TransferError(
      "invalidInput",
      `checksumAlgorithm must be one of ${CHECKSUM_ALGORITHMS.join(", ")}`,
    );
  }
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new TransferError(
      "invalidInput",
      `concurrency must be a whole number from 1 to 64, got ${concurrency}`,
    );
  }
  const attempts = opts.attempts ?? 5;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new TransferError("invalidInput", `attempts must be a whole number ≥ 1, got ${attempts}`);
  }
  const plan = planParts(opts.size, opts.partSize);
  const mode = opts.bodyMode ?? "auto";
  if (opts.signal?.aborted) throw new TransferError("aborted", "transfer aborted before it started");
  // Keep-alive connections shared by all parts: one TLS handshake per connection, not per range.
  const ownDispatcher = opts.dispatcher ? undefined : new Agent({ keepAliveTimeout: 10_000 });
  const inner = new AbortController();
  const onAbort = () => inner.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const run: Run = {
    opts,
    target: {
      s3: opts.s3,
      bucket: opts.bucket,
      key: opts.key,
      contentType: opts.contentType,
      metadata: opts.metadata,
      algorithm,
    },
    plan,
    algorithm,
    concurrency,
    attempts,
    buffer: chooseBodyMode(mode, algorithm, concurrency, plan.partSize) === "buffer",
    src: new SourceState(opts.source, {
      allowedHosts: opts.allowedHosts,
      allowHttpHosts: opts.allowHttpHosts ?? [],
    }),
    dispatcher: opts.dispatcher ?? (ownDispatcher as Agent),
    inner,
    startedAt: performance.now(),
    bytesDownloaded: 0,
    resumedBytes: 0,
    pool: [],
  };

  try {
    // Download info first: a refused host or a failing DingTalk fails before anything is created in S3.
    await run.src.fresh((opts.expiryMarginSeconds ?? 60) * 1000);
    if (plan.mode === "single") {
      await dropStaleCheckpoint(run, undefined);
      return await single(run);
    }
    try {
      return await multipart(run);
    } catch (err) {
      if (!(err instanceof FetchProblem && err.kind === "rangeIgnored")) throw err;
      opts.onEvent?.({ type: "fallback", error: err.message });
      return await streamWhole(run);
    }
  } catch (err) {
    throw toTransferError(run, err);
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    run.pool.length = 0;
    await ownDispatcher?.destroy().catch(() => {});
  }
}

// --- the three ways to move a file ---

/** At most one part: fetch it whole into memory (≤ part size), PutObject with its CRC. */
async function single(run: Run): Promise<CompletedTransfer> {
  const { size } = run.plan;
  const stored = await withAttempts(
    run,
    run.inner.signal,
    undefined,
    run.attempts,
    async (info, index, attempt) => {
      const tap = await open(run, info, index, size > 0 ? { start: 0, end: size - 1 } : null, attempt);
      const body = await readInto(tap, Buffer.allocUnsafe(size));
      const checksum = crcToBase64(run.algorithm, tap.crcValue());
      return { checksum, object: await putSingle(run.target, body, checksum, attempt.signal) };
    },
  );
  return completed(run, "single", stored.object, stored.checksum, 0);
}

/** Ranged parts into a multipart upload, resuming a matching checkpoint. */
async function multipart(run: Run, allowResume = true): Promise<TransferResult> {
  const { opts, plan } = run;
  const store = opts.checkpoint;
  const saver = store
    ? new CheckpointSaver(store, (err) =>
        opts.onEvent?.({ type: "checkpointError", error: `saving the checkpoint failed: ${describe(err)}` }),
      )
    : undefined;
  const now = () => new Date().toISOString();

  let cp = allowResume ? await dropStaleCheckpoint(run, plan) : undefined;
  const resumed = cp !== undefined;
  if (cp) {
    opts.onEvent?.({ type: "resume", uploadId: cp.uploadId, partsDone: cp.parts.length });
  } else {
    const uploadId = await s3Call(run, "CreateMultipartUpload", () =>
      createMultipart(run.target, run.inner.signal),
    );
    const at = now();
    cp = {
      version: 1,
      bucket: opts.bucket,
      key: opts.key,
      uploadId,
      size: plan.size,
      partSize: plan.partSize,
      checksumAlgorithm: run.algorithm,
      ...(opts.sourceVersion !== undefined ? { sourceVersion: String(opts.sourceVersion) } : {}),
      createdAt: at,
      updatedAt: at,
      parts: [],
    };
    saver?.update(cp); // so even a crash before the first part leaves the uploadId to resume or abort
  }
  const base: Checkpoint = cp;
  const uploadId = base.uploadId;
  const done = new Map<number, CheckpointPart>(base.parts.map((p) => [p.partNumber, p]));
  run.resumedBytes = base.parts.reduce((n, p) => n + p.length, 0);
  const snapshot = (): Checkpoint => ({
    ...base,
    updatedAt: now(),
    parts: [...done.values()].sort((a, b) => a.partNumber - b.partNumber),
  });
  const progress = () => {
    const bytesDone = [...done.values()].reduce((n, p) => n + p.length, 0);
    const seconds = (performance.now() - run.startedAt) / 1000;
    opts.onProgress?.({
      bytesDone,
      partsDone: done.size,
      partsTotal: plan.parts.length,
      bytesPerSecond: seconds > 0 ? (bytesDone - run.resumedBytes) / seconds : 0,
    });
  };

  try {
    if (done.size > 0) progress();
    const remaining = plan.parts.filter((p) => !done.has(p.partNumber));
    const stopped = await runPool(run, remaining, async (part, signal) => {
      const sent = await sendPart(run, signal, uploadId, part);
      done.set(part.partNumber, sent);
      const saved = saver?.update(snapshot());
      progress();
      // An unthrottled store (a local file) is cheap: wait for it before taking the next part, so a process
      // killed at any moment loses at most the parts in flight. A throttled one (S3) may lag by its interval.
      if (saved && !((store?.minSaveIntervalMs ?? 0) > 0)) await saved;
    });

    if (stopped && done.size < plan.parts.length) {
      const paused = snapshot();
      if (saver) {
        saver.update(paused);
        await saver.flush().catch((err: unknown) => {
          throw new TransferError("upload", `pausing: saving the checkpoint failed: ${describe(err)}`, {
            cause: err,
          });
        });
      }
      return {
        status: "paused",
        checkpoint: paused,
        partsDone: done.size,
        partsTotal: plan.parts.length,
        bytesDone: paused.parts.reduce((n, p) => n + p.length, 0),
        seconds: (performance.now() - run.startedAt) / 1000,
      };
    }

    const parts = plan.parts.map((p) => done.get(p.partNumber) as CheckpointPart);
    const full = crcToBase64(
      run.algorithm,
      combineParts(
        run.algorithm,
        parts.map((p) => ({ crc: crcFromBase64(run.algorithm, p.checksum), length: p.length })),
      ),
    );
    // A Complete may have been applied though no answer said so: completeOrFind then looks for our object.
    const object = await s3Call(run, "CompleteMultipartUpload", () =>
      completeOrFind(run.target, uploadId, parts, { checksum: full, size: plan.size }, run.inner.signal),
    );
    await saver?.close();
    const result = await completed(run, "multipart", object, full, base.parts.length);
    await forgetCheckpoint(run);
    return result;
  } catch (err) {
    await saver?.close();
    if (resumed && isUploadGone(err)) {
      // The checkpoint's upload was aborted elsewhere (a lifecycle rule, an operator): start over cleanly.
      opts.onEvent?.({ type: "restart", reason: "the checkpoint's multipart upload no longer exists" });
      await forgetCheckpoint(run);
      return multipart(run, false);
    }
    const abortError = await abortMultipart(run.target, uploadId);
    if (abortError) {
      // Left to the bucket's lifecycle rule for incomplete uploads; the original failure is what is thrown.
      opts.onEvent?.({ type: "cleanupError", error: `AbortMultipartUpload failed: ${describe(abortError)}` });
    }
    await forgetCheckpoint(run);
    throw err;
  }
}

/** The host ignores Range: one streamed GET cut into parts of a multipart upload of its own, aborted on failure. */
async function streamWhole(run: Run): Promise<CompletedTransfer> {
  const { size } = run.plan;
  run.resumedBytes = 0; // parts of the abandoned multipart upload are sent again
  const stored = await withAttempts(
    run,
    run.inner.signal,
    undefined,
    Math.min(run.attempts, 3),
    async (info, index, attempt) => {
      const tap = await open(run, info, index, null, attempt);
      const object = await uploadStream(run.target, tap, size, {
        partSize: run.plan.partSize,
        queueSize: Math.min(run.concurrency, 4),
        signal: attempt.signal,
        onCleanupError: (err) =>
          run.opts.onEvent?.({
            type: "cleanupError",
            error: `AbortMultipartUpload failed: ${describe(err)}`,
          }),
      });
      if (tap.failure) throw tap.failure;
      if (tap.bytes !== size) throw new FetchProblem("retryable", `streamed ${tap.bytes} of ${size} bytes`);
      return { object, checksum: crcToBase64(run.algorithm, tap.crcValue()) };
    },
  );
  return completed(run, "stream", stored.object, stored.checksum, 0);
}

// --- parts ---

/**
 * Run `work` over `parts` with bounded concurrency. The first failure aborts the parts in flight (through the
 * signal given to `work`) and is thrown. Resolves true if it stopped early because of shouldStop().
 */
async function runPool(
  run: Run,
  parts: PartRange[],
  work: (part: PartRange, signal: AbortSignal) => Promise<void>,
): Promise<boolean> {
  const queue = [...parts];
  let stopped = false;
  let failure: unknown;
  const pool = new AbortController();
  const unlink = link(run.inner.signal, pool);
  const worker = async () => {
    while (failure === undefined && !stopped) {
      if (run.opts.shouldStop?.()) {
        stopped = true;
        break;
      }
      const part = queue.shift();
      if (!part) break;
      try {
        await work(part, pool.signal);
      } catch (err) {
        if (err instanceof StopSignal) {
          stopped = true;
          break;
        }
        if (failure === undefined) {
          failure = err;
          pool.abort(err); // stop the other parts in flight: the upload is about to be aborted
        }
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(run.concurrency, parts.length) }, worker)).finally(unlink);
  if (failure !== undefined) throw failure;
  if (run.opts.signal?.aborted) throw new TransferError("aborted", "transfer aborted");
  return stopped;
}

/** One part: fetch its range and upload it, re-fetching on failure. */
function sendPart(run: Run, parent: AbortSignal, uploadId: string, part: PartRange): Promise<CheckpointPart> {
  return withAttempts(run, parent, part.partNumber, run.attempts, async (info, index, attempt) => {
    const { signal } = attempt;
    const tap = await open(run, info, index, { start: part.start, end: part.end }, attempt);
    let result: { etag: string; checksum: string | undefined };
    let checksum: string;
    if (run.buffer) {
      const buffer = run.pool.pop() ?? Buffer.allocUnsafeSlow(run.plan.partSize);
      const body = await readInto(tap, buffer);
      checksum = crcToBase64(run.algorithm, tap.crcValue());
      result = await uploadPart(
        run.target,
        { uploadId, partNumber: part.partNumber, body, length: part.length, checksum },
        signal,
      );
      run.pool.push(buffer); // only after success: an aborted request may still hold the buffer
    } else {
      const unwatch = watchS3Reading(tap, 2 * idleTimeoutMs(run), attempt, part.partNumber);
      try {
        result = await uploadPartChunked(
          run.target,
          {
            uploadId,
            partNumber: part.partNumber,
            body: awsChunkedBody(tap, run.algorithm),
            length: part.length,
          },
          signal,
        );
      } finally {
        unwatch();
      }
      if (tap.failure) throw tap.failure;
      if (tap.bytes !== part.length)
        throw new FetchProblem("retryable", `sent ${tap.bytes} of ${part.length} bytes`);
      checksum = crcToBase64(run.algorithm, tap.crcValue());
    }
    if (result.checksum && result.checksum !== checksum) {
      throw new FetchProblem("retryable", `S3's checksum of part ${part.partNumber} differs from ours`);
    }
    return { partNumber: part.partNumber, etag: result.etag, checksum, length: part.length };
  });
}

/**
 * While a streamed part's bytes still flow, abort the attempt if none moved for `ms`. undici's idle timeout
 * catches a silent file host, but not S3 that stops reading (the download is then paused, which is not idle).
 * Twice the idle timeout, so that a silent file host is reported as such first.
 */
function watchS3Reading(tap: PartTap, ms: number, attempt: AbortController, partNumber: number): () => void {
  let last = -1;
  const timer = setInterval(() => {
    if (tap.writableFinished || tap.destroyed) return; // all bytes handed over: S3's answer is the SDK's business
    if (tap.bytes === last) {
      attempt.abort(
        new Error(`no bytes of part ${partNumber} moved for ${ms / 1000} s (S3 stopped reading)`),
      );
    }
    last = tap.bytes;
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

const idleTimeoutMs = (run: Run) => run.opts.idleTimeoutMs ?? 30_000;

/**
 * Open a range on the URL `index` of `info`, counting downloaded bytes. When the body fails, aborts `attempt`
 * with the FetchProblem as its reason, which ends a streamed S3 request and tells whose fault it was.
 */
async function open(
  run: Run,
  info: CurrentInfo,
  index: number,
  range: { start: number; end: number } | null,
  attempt: AbortController,
): Promise<PartTap> {
  const tap = await openRange({
    url: info.urls[index] as URL,
    headers: info.headers,
    range,
    size: run.plan.size,
    algorithm: run.algorithm,
    dispatcher: run.dispatcher,
    signal: attempt.signal,
    headersTimeoutMs: run.opts.headersTimeoutMs ?? 30_000,
    idleTimeoutMs: idleTimeoutMs(run),
    onBytes: (n) => {
      run.bytesDownloaded += n;
    },
  });
  // A streamed S3 request would otherwise wait forever for the rest of a failed body (the SDK pipes it). An error
  // with no failure is the reader's own (the streamed fallback stops reading after a failed part): aborting then
  // would report "This operation was aborted" instead of that part's failure.
  tap.on("error", () => {
    if (tap.failure) attempt.abort(tap.failure);
  });
  return tap;
}

/**
 * Try `attempt` up to `max` times. Each try gets fresh-enough download info, the preferred URL, and its own
 * AbortController (linked to the run's). Decides per failure: refresh the info (403), retry with backoff
 * (network, 5xx, truncation, stall, S3 5xx), or give up (everything else).
 */
async function withAttempts<T>(
  run: Run,
  parent: AbortSignal,
  partNumber: number | undefined,
  max: number,
  attempt: (info: CurrentInfo, index: number, controller: AbortController) => Promise<T>,
): Promise<T> {
  const label = partNumber === undefined ? "the file" : `part ${partNumber}`;
  const marginMs = (run.opts.expiryMarginSeconds ?? 60) * 1000;
  let last: unknown;
  let lastSide: "download" | "upload" = "download";
  for (let n = 1; n <= max; n++) {
    // Only parts can pause; a single PutObject or the fallback's one stream has no checkpoint to return.
    if (n > 1 && partNumber !== undefined && run.opts.shouldStop?.()) throw new StopSignal();
    if (parent.aborted) throw parent.reason ?? new TransferError("aborted", "transfer aborted");
    const info = await run.src.fresh(marginMs);
    const index = run.src.urlIndex(info);
    const controller = new AbortController();
    const unlink = link(parent, controller);
    try {
      const value = await attempt(info, index, controller);
      run.src.reportSuccess(index);
      return value;
    } catch (err) {
      // Why the attempt was aborted, if it was: a failed download body, or S3 that stopped reading.
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      controller.abort(); // end whatever the attempt left open (body, S3 request)
      if (parent.aborted) throw parent.reason ?? err;
      const problem = err instanceof FetchProblem ? err : reason instanceof FetchProblem ? reason : undefined;
      last = problem ?? (reason instanceof Error ? reason : err);
      if (problem) {
        lastSide = "download";
        if (problem.kind === "expired") {
          run.opts.onEvent?.({ type: "refresh", partNumber, error: problem.message });
          await run.src.refresh(info.generation);
          continue;
        }
        // One resourceUrl refusing the file does not fail the part while another may serve it.
        if (problem.kind === "fatal" && run.src.switchAfterRefusal(info, index)) {
          run.opts.onEvent?.({ type: "retry", partNumber, attempt: n, error: problem.message });
          continue;
        }
        if (problem.kind !== "retryable") throw problem;
        run.src.reportFailure(info, index);
      } else {
        lastSide = "upload";
        // A part's upload is the transfer's: gone means start over. The streamed fallback's upload is this try's
        // own (each try creates one), so NoSuchUpload there — e.g. the SDK retrying a Complete whose
        // answer was lost after it had completed — only fails this try; the next one streams the file again.
        if (isNoSuchUpload(err) && partNumber !== undefined) {
          throw new TransferError("uploadGone", `${label}: the multipart upload no longer exists`, {
            cause: err,
          });
        }
        // A checksum S3 disagrees with means bytes changed on the way: send them again.
        if (!isRetryableS3(err) && !isChecksumMismatch(err) && !isNoSuchUpload(err)) {
          throw new TransferError("upload", `${label}: S3 refused it: ${describe(err)}`, {
            ...(partNumber !== undefined ? { partNumber } : {}),
            status: s3Status(err),
            cause: err,
          });
        }
      }
      if (n < max) {
        run.opts.onEvent?.({ type: "retry", partNumber, attempt: n, error: describe(last) });
        await sleep(backoff(run, n), parent);
      }
    } finally {
      unlink();
    }
  }
  throw new TransferError(lastSide, `${label} failed after ${max} attempts: ${describe(last)}`, {
    ...(partNumber !== undefined ? { partNumber } : {}),
    status: last instanceof FetchProblem ? last.status : s3Status(last),
    cause: last,
  });
}

// --- helpers ---

async function completed(
  run: Run,
  method: CompletedTransfer["method"],
  object: StoredObject,
  checksum: string,
  resumedParts: number,
): Promise<CompletedTransfer> {
  let s3Checksum: CompletedTransfer["s3Checksum"] = "unavailable";
  const composite = object.checksumType !== undefined && object.checksumType !== "FULL_OBJECT";
  if (!object.checksum || composite || object.checksum.includes("-")) {
    run.opts.onEvent?.({
      type: "checksumUnverified",
      detail: object.checksum
        ? `S3 answered a ${object.checksumType ?? "composite"} checksum (${object.checksum}), not a full-object one`
        : "S3 answered no checksum",
    });
  } else if (object.checksum !== checksum) {
    // Real S3 refuses to store such an object; if one got through anyway, do not leave it under the key.
    const deleteError = await run.opts.s3
      .send(
        new DeleteObjectCommand({ Bucket: run.opts.bucket, Key: run.opts.key, VersionId: object.versionId }),
      )
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    if (deleteError !== undefined) {
      run.opts.onEvent?.({ type: "cleanupError", error: `DeleteObject failed: ${describe(deleteError)}` });
    }
    // Say what happened to the object: a failed delete leaves it under the key for someone to remove.
    const cleanup =
      deleteError === undefined
        ? "object deleted"
        : `deleting the object failed, so it is still under the key: ${describe(deleteError)}`;
    throw new TransferError(
      "checksumMismatch",
      `S3's ${run.algorithm} of the object is ${object.checksum}, the bytes read had ${checksum}; ${cleanup}`,
    );
  } else {
    s3Checksum = "match";
  }
  const parts = run.plan.parts.length;
  return {
    status: "completed",
    bucket: run.opts.bucket,
    key: run.opts.key,
    size: run.plan.size,
    etag: object.etag,
    versionId: object.versionId,
    checksumAlgorithm: run.algorithm,
    checksum,
    s3Checksum,
    method,
    parts:
      method === "multipart"
        ? parts
        : method === "single"
          ? 1
          : Math.max(1, Math.ceil(run.plan.size / run.plan.partSize)),
    partSize: run.plan.partSize,
    resumedParts,
    bytesResent: Math.max(0, run.bytesDownloaded - (run.plan.size - run.resumedBytes)),
    seconds: (performance.now() - run.startedAt) / 1000,
  };
}

/**
 * Load the checkpoint for this bucket/key. Keep it only if it describes the same transfer (size, part size,
 * algorithm, source version, part lengths); otherwise abort its upload and delete it.
 */
async function dropStaleCheckpoint(run: Run, plan: PartPlan | undefined): Promise<Checkpoint | undefined> {
  const store = run.opts.checkpoint;
  if (!store) return undefined;
  const ref = { bucket: run.opts.bucket, key: run.opts.key };
  let cp: Checkpoint | undefined;
  try {
    cp = await store.load(ref);
  } catch (err) {
    run.opts.onEvent?.({ type: "checkpointError", error: `loading the checkpoint failed: ${describe(err)}` });
    return undefined;
  }
  if (!cp) return undefined;
  const version = run.opts.sourceVersion === undefined ? undefined : String(run.opts.sourceVersion);
  const matches =
    plan !== undefined &&
    cp.bucket === ref.bucket &&
    cp.key === ref.key &&
    cp.size === plan.size &&
    cp.partSize === plan.partSize &&
    cp.checksumAlgorithm === run.algorithm &&
    cp.sourceVersion === version &&
    cp.parts.every((p) => plan.parts[p.partNumber - 1]?.length === p.length);
  if (matches) return cp;
  run.opts.onEvent?.({ type: "restart", reason: "the checkpoint describes another transfer of this key" });
  await abortMultipart({ ...run.target }, cp.uploadId);
  await forgetCheckpoint(run);
  return undefined;
}

async function forgetCheckpoint(run: Run): Promise<void> {
  try {
    await run.opts.checkpoint?.delete({ bucket: run.opts.bucket, key: run.opts.key });
  } catch (err) {
    run.opts.onEvent?.({
      type: "checkpointError",
      error: `deleting the checkpoint failed: ${describe(err)}`,
    });
  }
}

/** An S3 call outside the part loop; the SDK already retried it. */
async function s3Call<T>(run: Run, name: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (run.inner.signal.aborted || err instanceof TransferError) throw err;
    // On CompleteMultipartUpload, a checksum mismatch means S3 combined other part checksums than ours.
    const reason = isNoSuchUpload(err)
      ? "uploadGone"
      : isChecksumMismatch(err)
        ? "checksumMismatch"
        : "upload";
    throw new TransferError(reason, `${name} failed: ${describe(err)}`, {
      status: s3Status(err),
      cause: err,
    });
  }
}

function isUploadGone(err: unknown): boolean {
  return isNoSuchUpload(err) || (err instanceof TransferError && err.reason === "uploadGone");
}

function toTransferError(run: Run, err: unknown): unknown {
  if (err instanceof TransferError) return err;
  if (run.opts.signal?.aborted) return new TransferError("aborted", "transfer aborted", { cause: err });
  if (err instanceof FetchProblem) {
    const reason =
      err.kind === "sizeMismatch" ? "sizeMismatch" : err.kind === "fatal" ? "sourceRejected" : "download";
    return new TransferError(reason, err.message, { status: err.status, cause: err });
  }
  if (isNoSuchUpload(err)) {
    return new TransferError("uploadGone", `the multipart upload no longer exists: ${describe(err)}`, {
      cause: err,
    });
  }
  return new TransferError("upload", `S3 failed: ${describe(err)}`, { status: s3Status(err), cause: err });
}

/** A progress bar or a logger that throws must not fail the transfer. */
function withSafeCallbacks(opts: TransferOptions): TransferOptions {
  const safe =
    <A>(fn: ((arg: A) => void) | undefined) =>
    (arg: A) => {
      try {
        fn?.(arg);
      } catch {
        // ignored on purpose
      }
    };
  return { ...opts, onEvent: safe(opts.onEvent), onProgress: safe(opts.onProgress) };
}

function link(parent: AbortSignal, child: AbortController): () => void {
  const onAbort = () => child.abort(parent.reason);
  if (parent.aborted) onAbort();
  parent.addEventListener("abort", onAbort, { once: true });
  return () => parent.removeEventListener("abort", onAbort);
}

function backoff(run: Run, attempt: number): number {
  const base = run.opts.backoff?.baseMs ?? 200;
  const cap = run.opts.backoff?.maxMs ?? 5_000;
  return Math.random() * Math.min(cap, base * 2 ** (attempt - 1));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
