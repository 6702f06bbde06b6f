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
 *
 * Where the rest lives: strategy-single-put.ts, strategy-ranged.ts, strategy-streamed.ts (the three ways to
 * move a file); attempts.ts (retry loop), pool.ts (workers), verify.ts (S3's checksum vs ours), resume.ts
 * (checkpoint lifecycle), failures.ts (error mapping), run.ts (the state one call shares), types.ts.
 */
import { Agent } from "undici";
import { chooseBodyMode } from "./body-mode.js";
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from "./checksum.js";
import { TransferError } from "./errors.js";
import { toTransferError } from "./failures.js";
import { planParts } from "./plan.js";
import { FetchProblem } from "./range-fetch.js";
import { dropStaleCheckpoint } from "./resume.js";
import { expiryMarginMs, type Run } from "./run.js";
import { SourceState } from "./source.js";
import { ranged } from "./strategy-ranged.js";
import { singlePut } from "./strategy-single-put.js";
import { streamWhole } from "./strategy-streamed.js";
import type { TransferOptions, TransferResult } from "./types.js";

export const DEFAULT_CONCURRENCY = 8;

export async function transferToS3(options: TransferOptions): Promise<TransferResult> {
  const opts = withSafeCallbacks(options);
  const { algorithm, concurrency, attempts } = checkOptions(opts);
  const plan = planParts(opts.size, opts.partSize);
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
    buffer: chooseBodyMode(opts.bodyMode ?? "auto", algorithm, concurrency, plan.partSize) === "buffer",
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
    await run.src.fresh(expiryMarginMs(run));
    if (plan.mode === "single") {
      await dropStaleCheckpoint(run, undefined);
      return await singlePut(run);
    }
    try {
      return await ranged(run);
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

/** The options checked before any network call (size and part size are checked by planParts). */
function checkOptions(opts: TransferOptions): {
  algorithm: ChecksumAlgorithm;
  concurrency: number;
  attempts: number;
} {
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
  return { algorithm, concurrency, attempts };
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
