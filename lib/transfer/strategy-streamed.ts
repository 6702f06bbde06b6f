/** Strategy for a host that ignores Range: one streamed GET cut into parts of a multipart upload of its own. */
import { withAttempts } from "./attempts.js";
import { combineParts, crcOf, crcToBase64 } from "./checksum.js";
import { describe } from "./errors.js";
import { FetchProblem } from "./range-fetch.js";
import { openPart, type Run } from "./run.js";
import type { CompletedTransfer } from "./types.js";
import {
  abortMultipart,
  completeOrFind,
  createMultipart,
  type ObjectTarget,
  type StoredObject,
  uploadPart,
} from "./upload.js";
import { completed } from "./verify.js";

/** The host ignores Range: one streamed GET cut into parts of a multipart upload of its own, aborted on failure. */
export async function streamWhole(run: Run): Promise<CompletedTransfer> {
  const { size } = run.plan;
  run.resumedBytes = 0; // parts of the abandoned multipart upload are sent again
  const stored = await withAttempts(
    run,
    run.inner.signal,
    undefined,
    Math.min(run.attempts, 3),
    async (info, index, attempt) => {
      const tap = await openPart(run, info, index, null, attempt);
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

/**
 * The fallback when the file host ignores Range: one streamed GET cut into parts of `partSize`, at most
 * `queueSize` of them uploading at once (so at most queueSize + 1 part buffers), each with its CRC, completed
 * with the full-object CRC like the ranged parts. Not lib-storage's Upload: its done() rejects on abort before
 * its own AbortMultipartUpload is sent, so a process ending right after a failed try left that upload open
 * (chaos seed 777001 run 65). Here every failure awaits the abort, and a lost Complete answer is recognised as
 * for ranged parts. The body must fail (not end) when its byte count is wrong; a short count is refused here too.
 */
async function uploadStream(
  t: ObjectTarget,
  body: AsyncIterable<Buffer>,
  size: number,
  options: {
    partSize: number;
    queueSize: number;
    signal?: AbortSignal | undefined;
    /** Told when the failed upload could not be aborted (the bucket's lifecycle rule is then its end). */
    onCleanupError?: ((err: unknown) => void) | undefined;
  },
): Promise<StoredObject> {
  const { partSize, queueSize } = options;
  // Ends the requests in flight on the first failure, or on the caller's abort.
  const requests = new AbortController();
  const onAbort = () => requests.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let uploadId: string | undefined;
  let failure: unknown;
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    requests.abort(err);
  };
  const parts: Array<{ partNumber: number; etag: string; checksum: string; crc: bigint; length: number }> =
    [];
  const inFlight = new Set<Promise<void>>();
  let partsStarted = 0;

  const send = async (data: Buffer) => {
    while (inFlight.size >= queueSize) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
    uploadId ??= await createMultipart(t, requests.signal);
    const partNumber = ++partsStarted;
    const crc = crcOf(t.algorithm, data);
    const checksum = crcToBase64(t.algorithm, crc);
    const request: Promise<void> = uploadPart(
      t,
      { uploadId, partNumber, body: data, length: data.length, checksum },
      requests.signal,
    )
      .then((answer) => {
        if (answer.checksum && answer.checksum !== checksum) {
          throw new Error(`S3's checksum of streamed part ${partNumber} differs from ours`);
        }
        parts.push({ partNumber, etag: answer.etag, checksum, crc, length: data.length });
      })
      .catch(fail)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  try {
    let current = Buffer.allocUnsafe(partSize);
    let filled = 0;
    let total = 0;
    for await (const chunk of body) {
      for (let offset = 0; offset < chunk.length; ) {
        const n = Math.min(chunk.length - offset, partSize - filled);
        chunk.copy(current, filled, offset, offset + n);
        filled += n;
        offset += n;
        total += n;
        if (filled === partSize) {
          await send(current);
          current = Buffer.allocUnsafe(partSize);
          filled = 0;
        }
      }
    }
    if (filled > 0) await send(current.subarray(0, filled));
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    if (total !== size) throw new Error(`the stream ended after ${total} of ${size} bytes`);
    if (uploadId === undefined) throw new Error("the stream had no bytes");
    parts.sort((a, b) => a.partNumber - b.partNumber);
    const full = crcToBase64(t.algorithm, combineParts(t.algorithm, parts));
    return await completeOrFind(t, uploadId, parts, { checksum: full, size }, requests.signal);
  } catch (err) {
    fail(err);
    await Promise.all(inFlight); // their failures are already caught; S3 must not get a part after the abort
    if (uploadId !== undefined) {
      const abortError = await abortMultipart(t, uploadId);
      if (abortError) options.onCleanupError?.(abortError);
    }
    throw failure;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}
