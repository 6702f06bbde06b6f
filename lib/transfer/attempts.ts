/** The attempt loop: one try after another of a part (or the whole file), deciding after each failure. */
import { describe, TransferError } from "./errors.js";
import { FetchProblem } from "./range-fetch.js";
import { expiryMarginMs, link, type Run, StopSignal } from "./run.js";
import type { CurrentInfo } from "./source.js";
import { isChecksumMismatch, isNoSuchUpload, isRetryableS3, s3Status } from "./upload.js";

/**
 * Try `attempt` up to `max` times. Each try gets fresh-enough download info, the preferred URL, and its own
 * AbortController (linked to the run's). Decides per failure: refresh the info (403), retry with backoff
 * (network, 5xx, truncation, stall, S3 5xx), or give up (everything else).
 */
export async function withAttempts<T>(
  run: Run,
  parent: AbortSignal,
  partNumber: number | undefined,
  max: number,
  attempt: (info: CurrentInfo, index: number, controller: AbortController) => Promise<T>,
): Promise<T> {
  const label = partNumber === undefined ? "the file" : `part ${partNumber}`;
  const marginMs = expiryMarginMs(run);
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
