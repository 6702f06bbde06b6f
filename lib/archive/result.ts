/** What archiveFile returns (archived, skipped, paused), and how an engine result becomes one. */
import type { HeadObjectCommandOutput } from "@aws-sdk/client-s3";
import type { Logger } from "../dingtalk";
import type { ChecksumAlgorithm, CompletedTransfer, PausedTransfer, TransferProgress } from "../transfer";

/** The engine's progress, plus what it is the progress of. */
export interface ArchiveProgress extends TransferProgress {
  key: string;
  /** Bytes of the whole file. */
  size: number;
}

interface ResultBase {
  bucket: string;
  key: string;
  /** Bytes of the file version. */
  size: number;
  /** The DingTalk version archived. */
  version: number;
  /** Wall time of this call. */
  seconds: number;
}

export interface ArchiveChecksum {
  algorithm: ChecksumAlgorithm;
  /** Base64, as S3 shows it: the full-object CRC, comparable with any other copy of the file. */
  value: string;
}

export interface ArchivedResult extends ResultBase {
  status: "archived";
  etag: string;
  versionId: string | undefined;
  /** Undefined only for a copy whose source object had no full-object checksum. */
  checksum: ArchiveChecksum | undefined;
  /** Parts taken over from the checkpoint of an earlier, interrupted attempt. */
  resumedParts: number;
  /** Bytes downloaded more than once in this call (retried ranges). */
  bytesResent: number;
  /** A rename: the key this version was copied from inside S3 (nothing downloaded). */
  copiedFrom?: string;
}

export interface SkippedResult extends ResultBase {
  status: "skipped";
  etag: string | undefined;
  versionId: string | undefined;
  /** As S3 answers it; undefined when the object has no full-object checksum (it was not stored by us). */
  checksum: ArchiveChecksum | undefined;
}

export interface PausedResult extends ResultBase {
  status: "paused";
  partsDone: number;
  partsTotal: number;
  bytesDone: number;
}

export type ArchiveResult = ArchivedResult | SkippedResult | PausedResult;

/** S3's full-object checksum of an object, if it has one (a composite one is not comparable). */
export function checksumOf(head: HeadObjectCommandOutput): ArchiveChecksum | undefined {
  if (head.ChecksumType !== undefined && head.ChecksumType !== "FULL_OBJECT") return undefined;
  if (head.ChecksumCRC32) return { algorithm: "CRC32", value: head.ChecksumCRC32 };
  if (head.ChecksumCRC64NVME) return { algorithm: "CRC64NVME", value: head.ChecksumCRC64NVME };
  return undefined;
}

export function archived(
  t: CompletedTransfer,
  base: { bucket: string; key: string; version: number },
  seconds: number,
  log: Logger,
): ArchivedResult {
  const result: ArchivedResult = {
    status: "archived",
    ...base,
    size: t.size,
    etag: t.etag,
    versionId: t.versionId,
    checksum: { algorithm: t.checksumAlgorithm, value: t.checksum },
    resumedParts: t.resumedParts,
    bytesResent: t.bytesResent,
    seconds,
  };
  log.info("archived", {
    bucket: result.bucket,
    key: result.key,
    size: result.size,
    method: t.method,
    parts: t.parts,
    resumedParts: t.resumedParts,
    bytesResent: t.bytesResent,
    seconds,
  });
  return result;
}

export function paused(
  t: PausedTransfer,
  base: { bucket: string; key: string; version: number; size: number },
  seconds: number,
  log: Logger,
): PausedResult {
  log.info("archive paused", { key: base.key, partsDone: t.partsDone, partsTotal: t.partsTotal });
  return {
    status: "paused",
    ...base,
    partsDone: t.partsDone,
    partsTotal: t.partsTotal,
    bytesDone: t.bytesDone,
    seconds,
  };
}
