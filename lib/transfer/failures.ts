/** Anything thrown inside the engine turned into the one error it throws, TransferError. */
import { describe, TransferError } from "./errors.js";
import { FetchProblem } from "./range-fetch.js";
import type { Run } from "./run.js";
import { isChecksumMismatch, isNoSuchUpload, s3Status } from "./upload.js";

/** An S3 call outside the part loop; the SDK already retried it. */
export async function s3Call<T>(run: Run, name: string, call: () => Promise<T>): Promise<T> {
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

export function isUploadGone(err: unknown): boolean {
  return isNoSuchUpload(err) || (err instanceof TransferError && err.reason === "uploadGone");
}

export function toTransferError(run: Run, err: unknown): unknown {
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
