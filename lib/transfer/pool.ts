/** The worker pool: `concurrency` workers taking parts off one queue until done, failed, or told to stop. */
import { TransferError } from "./errors.js";
import type { PartRange } from "./plan.js";
import { link, type Run, StopSignal } from "./run.js";

/**
 * Run `work` over `parts` with bounded concurrency. The first failure aborts the parts in flight (through the
 * signal given to `work`) and is thrown. Resolves true if it stopped early because of shouldStop().
 */
export async function runPool(
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
