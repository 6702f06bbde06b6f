/** Strategy for a file of at most one part: fetch it whole into memory, one PutObject with its CRC. */
import { withAttempts } from "./attempts.js";
import { crcToBase64 } from "./checksum.js";
import { readInto } from "./range-fetch.js";
import { openPart, type Run } from "./run.js";
import type { CompletedTransfer } from "./types.js";
import { putSingle } from "./upload.js";
import { completed } from "./verify.js";

export async function singlePut(run: Run): Promise<CompletedTransfer> {
  const { size } = run.plan;
  const stored = await withAttempts(
    run,
    run.inner.signal,
    undefined,
    run.attempts,
    async (info, index, attempt) => {
      const tap = await openPart(run, info, index, size > 0 ? { start: 0, end: size - 1 } : null, attempt);
      const body = await readInto(tap, Buffer.allocUnsafe(size));
      const checksum = crcToBase64(run.algorithm, tap.crcValue());
      return { checksum, object: await putSingle(run.target, body, checksum, attempt.signal) };
    },
  );
  return completed(run, "single", stored.object, stored.checksum, 0);
}
