/** What one transferToS3 call shares between its strategies and workers, and the helpers that use it. */
import type { Dispatcher } from "undici";
import type { ChecksumAlgorithm } from "./checksum.js";
import type { PartPlan } from "./plan.js";
import { openRange, type PartTap } from "./range-fetch.js";
import type { CurrentInfo, SourceState } from "./source.js";
import type { TransferOptions } from "./types.js";
import type { ObjectTarget } from "./upload.js";

/** Thrown inside a worker to stop taking parts: shouldStop() turned true while a part was between attempts. */
export class StopSignal extends Error {}

/** Everything one call shares between its workers. */
export interface Run {
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
  /** Part-size buffers the buffer body mode reuses (not the worker pool: that is pool.ts). */
  pool: Buffer[];
}

export const idleTimeoutMs = (run: Run) => run.opts.idleTimeoutMs ?? 30_000;
/** How long before a signed URL expires the engine stops trusting it and asks for fresh download info. */
export const expiryMarginMs = (run: Run) => (run.opts.expiryMarginSeconds ?? 60) * 1000;

/**
 * Open a range on the URL `index` of `info`, counting downloaded bytes. When the body fails, aborts `attempt`
 * with the FetchProblem as its reason, which ends a streamed S3 request and tells whose fault it was.
 */
export async function openPart(
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

/** Abort `child` when `parent` aborts (with its reason); returns the function that unlinks them. */
export function link(parent: AbortSignal, child: AbortController): () => void {
  const onAbort = () => child.abort(parent.reason);
  if (parent.aborted) onAbort();
  parent.addEventListener("abort", onAbort, { once: true });
  return () => parent.removeEventListener("abort", onAbort);
}
