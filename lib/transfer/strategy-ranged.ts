/**
 * Strategy for a file of several parts: ranged GETs into a multipart upload, `concurrency` parts at a time,
 * resuming a matching checkpoint and saving one as parts complete; paused when shouldStop() says time is up.
 */
import { withAttempts } from "./attempts.js";
import { type Checkpoint, type CheckpointPart, CheckpointSaver } from "./checkpoint.js";
import { combineParts, crcFromBase64, crcToBase64 } from "./checksum.js";
import { awsChunkedBody } from "./chunked-body.js";
import { describe, TransferError } from "./errors.js";
import { isUploadGone, s3Call } from "./failures.js";
import type { PartRange } from "./plan.js";
import { runPool } from "./pool.js";
import { FetchProblem, type PartTap, readInto } from "./range-fetch.js";
import { dropStaleCheckpoint, forgetCheckpoint } from "./resume.js";
import { idleTimeoutMs, openPart, type Run } from "./run.js";
import type { TransferResult } from "./types.js";
import { abortMultipart, completeOrFind, createMultipart, uploadPart, uploadPartChunked } from "./upload.js";
import { completed } from "./verify.js";

/** Ranged parts into a multipart upload, resuming a matching checkpoint. */
export async function ranged(run: Run, allowResume = true): Promise<TransferResult> {
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
      return ranged(run, false);
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

/** One part: fetch its range and upload it, re-fetching on failure. */
function sendPart(run: Run, parent: AbortSignal, uploadId: string, part: PartRange): Promise<CheckpointPart> {
  return withAttempts(run, parent, part.partNumber, run.attempts, async (info, index, attempt) => {
    const { signal } = attempt;
    const tap = await openPart(run, info, index, { start: part.start, end: part.end }, attempt);
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
