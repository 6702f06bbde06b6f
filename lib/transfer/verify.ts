/** The last step of every strategy: compare S3's checksum of the stored object with ours, then the result. */
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { describe, TransferError } from "./errors.js";
import type { Run } from "./run.js";
import type { CompletedTransfer } from "./types.js";
import type { StoredObject } from "./upload.js";

/**
 * The CompletedTransfer for `object`, once S3's full-object checksum matches `checksum` (or S3 showed none we can
 * compare: reported as unverified). On a mismatch the object is deleted and a checksumMismatch error thrown.
 */
export async function completed(
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
