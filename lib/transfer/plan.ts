/**
 * Range planning: how a file of `size` bytes is cut into S3 parts (one HTTP range per part).
 * Pure arithmetic, no I/O, so it is tested exhaustively.
 */
import { TransferError } from "./errors.js";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** S3 limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
export const S3_MIN_PART_SIZE = 5 * MiB; // every part but the last
export const S3_MAX_PART_SIZE = 5 * GiB;
export const S3_MAX_PARTS = 10_000;
export const S3_MAX_OBJECT_SIZE = 5 * TiB;

export const DEFAULT_PART_SIZE = 8 * MiB;

/** One part: bytes [start, end] of the file (inclusive, as in an HTTP Range header). */
export interface PartRange {
  partNumber: number; // 1-based, as S3 numbers parts
  start: number;
  end: number;
  length: number;
}

export interface PartPlan {
  size: number;
  /** The part size actually used: the requested one, grown so that no file needs more than 10,000 parts. */
  partSize: number;
  /** "single": at most one part, sent with one PutObject (0-byte files too). */
  mode: "single" | "multipart";
  /** Empty for a 0-byte file. */
  parts: PartRange[];
}

/** The part size for `size` bytes: at least `requested`, and at least ceil(size / 10,000) rounded up to a MiB. */
export function effectivePartSize(size: number, requested: number = DEFAULT_PART_SIZE): number {
  const needed = Math.ceil(Math.ceil(size / S3_MAX_PARTS) / MiB) * MiB;
  return Math.max(requested, needed);
}

export function planParts(size: number, requestedPartSize: number = DEFAULT_PART_SIZE): PartPlan {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new TransferError("invalidInput", `size must be a whole number of bytes ≥ 0, got ${size}`);
  }
  if (size > S3_MAX_OBJECT_SIZE) {
    throw new TransferError("invalidInput", `size ${size} exceeds S3's 5 TiB object limit`);
  }
  if (!Number.isSafeInteger(requestedPartSize) || requestedPartSize < S3_MIN_PART_SIZE) {
    throw new TransferError(
      "invalidInput",
      `partSize must be ≥ 5 MiB (${S3_MIN_PART_SIZE}), got ${requestedPartSize}`,
    );
  }
  if (requestedPartSize > S3_MAX_PART_SIZE) {
    throw new TransferError(
      "invalidInput",
      `partSize must be ≤ 5 GiB (${S3_MAX_PART_SIZE}), got ${requestedPartSize}`,
    );
  }
  const partSize = effectivePartSize(size, requestedPartSize);
  const count = Math.ceil(size / partSize);
  const parts: PartRange[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const start = i * partSize;
    const end = Math.min(start + partSize, size) - 1;
    parts[i] = { partNumber: i + 1, start, end, length: end - start + 1 };
  }
  return { size, partSize, mode: count <= 1 ? "single" : "multipart", parts };
}
