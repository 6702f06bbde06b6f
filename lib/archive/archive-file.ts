/**
 * archiveFile: copy one DingTalk file version into S3, once.
 *
 *   listed facts (a scheduled run's job) or getDentry ─► refuse folders ─► key
 *     ─► HeadObject: that version already there? ─► "skipped"
 *     ─► the version archived under another name (a rename)? ─► server-side S3 copy, "archived" (0 calls)
 *     ─► download info (fileArchived → ArchiveRetryLater) ─► transferToS3 (resumes a checkpoint)
 *     ─► "archived" (or "paused" when shouldStop() said time is up: call again to continue)
 *
 * A plain function: every client and setting comes in `deps`, so a Lambda, the CLI, tests and the benchmark
 * call it the same way.
 */
import { HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import type { ArchiveConfig, TransferConfig } from "../config";
import type { Dentry, DingTalkClient } from "../dingtalk";
import type { Logger } from "../logging";
import {
  type CheckpointStore,
  type ChecksumAlgorithm,
  type CompletedTransfer,
  type PausedTransfer,
  type TransferEvent,
  type TransferProgress,
  transferToS3,
} from "../transfer";
import { copyArchived, findUnderOtherName, holdsVersion } from "./copy";
import { dingTalkSource, probeSize } from "./dingtalk-source";
import { ARCHIVE_CODES, ArchiveError, toArchiveError } from "./errors";
import { archiveKey } from "./key";
import { objectMetadata, storedContentTypeFor } from "./metadata";
import type { ArchiveRequest, ListedFile } from "./request";

export interface ArchiveDeps {
  dingtalk: Pick<DingTalkClient, "getDentry" | "getFileDownloadInfo">;
  /** Configured as production's: region, and the endpoint + path-style addressing when one is set. */
  s3: S3Client;
  archive: ArchiveConfig;
  /** Part size, concurrency, allowed download hosts (and the local sandbox's, allowed over http). */
  transfer: TransferConfig;
  /** Completed parts of unfinished uploads: a file store for the CLI, an S3 store for Lambda. */
  checkpoints: CheckpointStore;
  /** DINGTALK_UNION_ID: the operator when a request names none. */
  defaultUnionId?: string | undefined;
  /** Checked before each part: true = finish the parts in flight, save the checkpoint, return "paused". */
  shouldStop?: (() => boolean) | undefined;
  /** After each completed part (multipart transfers only). */
  onProgress?: ((progress: ArchiveProgress) => void) | undefined;
  logger?: Logger | undefined;
  /** Copies above this size use UploadPartCopy ranges (default S3's 5 GiB limit; tests lower it). */
  maxSingleCopyBytes?: number | undefined;
  /** Range per UploadPartCopy (default 1 GiB). */
  copyPartBytes?: number | undefined;
}

/** A request plus, from a scheduled run's listing, what DingTalk already said about the file. */
export type ArchiveTask = ArchiveRequest & { listed?: ListedFile | undefined };

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

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export async function archiveFile(request: ArchiveTask, deps: ArchiveDeps): Promise<ArchiveResult> {
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  const log = deps.logger ?? silent;
  const { spaceId, dentryId } = request;
  const where = `archiving ${spaceId}/${dentryId}${request.version ? ` v${request.version}` : ""}`;
  try {
    const unionId = request.unionId ?? deps.defaultUnionId;
    if (!unionId) {
      throw new ArchiveError({
        code: ARCHIVE_CODES.missingUnionId,
        message: `${where}: unionId is required: the request names none and DINGTALK_UNION_ID is not set`,
      });
    }
    // The listing's facts stand for getDentry when they describe the version asked for: one call saved.
    const dentry = listedDentry(request) ?? (await deps.dingtalk.getDentry({ unionId, spaceId, dentryId }));
    const version = chooseVersion(request, dentry, where);
    const isCurrent = version === dentry.version;
    const { bucket } = deps.archive;
    const key = buildKey(deps.archive.prefix, spaceId, dentryId, version, dentry.name, where);
    const base = { bucket, key, version };
    // What the object's metadata says of the file. getDentry describes the current version only: an older
    // version's modified time is not known here.
    const factsOf = (size: number) => ({
      spaceId,
      dentryId,
      version,
      name: dentry.name,
      size,
      modifiedTime: isCurrent ? dentry.modifiedTime : undefined,
      creatorId: dentry.creatorId,
    });

    const existing = await findArchived(
      deps.s3,
      bucket,
      key,
      version,
      isCurrent ? dentry.size : undefined,
      log,
    );
    if (existing) {
      log.info("already archived", { spaceId, dentryId, version, bucket, key });
      return {
        status: "skipped",
        ...base,
        size: existing.ContentLength ?? 0,
        etag: existing.ETag,
        versionId: existing.VersionId,
        checksum: checksumOf(existing),
        seconds: seconds(),
      };
    }

    // Best effort: a failed lookup only costs the download a copy would have saved.
    const renamed = await findUnderOtherName(
      deps.s3,
      bucket,
      key.slice(0, key.lastIndexOf("/") + 1),
      key,
      version,
      isCurrent ? dentry.size : undefined,
    ).catch((error: unknown) => {
      log.warn("could not look for this version under an earlier name; downloading it", {
        key,
        error: (error as Error).name,
      });
      return undefined;
    });
    if (renamed) {
      const size = renamed.head.ContentLength ?? 0;
      const copy = await copyArchived(deps.s3, {
        bucket,
        from: renamed.key,
        to: key,
        size,
        contentType: storedContentTypeFor(dentry.name),
        metadata: objectMetadata(factsOf(size)),
        checksumAlgorithm: checksumOf(renamed.head)?.algorithm,
        maxSingleCopyBytes: deps.maxSingleCopyBytes,
        partBytes: deps.copyPartBytes,
      });
      log.info("archived by copying a renamed file's earlier key", { bucket, key, from: renamed.key, size });
      return {
        status: "archived",
        ...base,
        size,
        etag: copy.etag,
        versionId: copy.versionId,
        // The same bytes: the source's full-object CRC is this object's too (none if it had none).
        checksum: checksumOf(renamed.head),
        resumedParts: 0,
        bytesResent: 0,
        copiedFrom: renamed.key,
        seconds: seconds(),
      };
    }

    const source = dingTalkSource(deps.dingtalk, { unionId, spaceId, dentryId, version });
    const info = await source.first();
    const hosts = {
      allowedHosts: deps.transfer.downloadAllowedHosts,
      allowHttpHosts: deps.transfer.allowHttpHosts,
    };
    const size = isCurrent ? (dentry.size as number) : await probeSize(info, hosts);
    if (size === undefined) {
      throw new ArchiveError({
        code: ARCHIVE_CODES.sizeUnknown,
        message: `${where}: the file host did not tell the size of version ${version}`,
        retryable: true,
      });
    }

    const result = await transferToS3({
      s3: deps.s3,
      bucket,
      key,
      size,
      contentType: storedContentTypeFor(dentry.name),
      metadata: objectMetadata(factsOf(size)),
      source,
      sourceVersion: version,
      ...hosts,
      partSize: deps.transfer.partSize,
      concurrency: deps.transfer.concurrency,
      checkpoint: deps.checkpoints,
      shouldStop: deps.shouldStop,
      onProgress: deps.onProgress && ((p) => deps.onProgress?.({ ...p, key, size })),
      onEvent: (event) => logEvent(log, event, key),
    });
    if (result.status === "paused") return paused(result, { ...base, size }, seconds(), log);
    return archived(result, base, seconds(), log);
  } catch (error) {
    // Not logged here: the caller decides what a failure means (requeue, dead-letter, exit 1) and logs that.
    throw toArchiveError(error, where);
  }
}

/** The listed facts as a dentry, when they are of the version the request asks for. */
function listedDentry(request: ArchiveTask): Dentry | undefined {
  const listed = request.listed;
  if (!listed || (request.version !== undefined && request.version !== listed.version)) return undefined;
  return {
    id: request.dentryId,
    type: "FILE",
    name: listed.name,
    size: listed.size,
    version: listed.version,
    modifiedTime: listed.modifiedTime,
    creatorId: listed.creatorId,
  };
}

function chooseVersion(request: ArchiveRequest, dentry: Dentry, where: string): number {
  if (dentry.type !== "FILE") {
    throw new ArchiveError({
      code: ARCHIVE_CODES.notAFile,
      message: `${where}: "${dentry.name}" is a folder; only files can be archived (archive its files one by one)`,
    });
  }
  const version = request.version ?? dentry.version;
  if (version === undefined) {
    throw new ArchiveError({
      code: ARCHIVE_CODES.incompleteDentry,
      message: `${where}: DingTalk's answer has no version for "${dentry.name}", and the request names none`,
    });
  }
  return version;
}

function buildKey(
  prefix: string,
  spaceId: string,
  dentryId: string,
  version: number,
  name: string,
  where: string,
): string {
  try {
    return archiveKey({ prefix, spaceId, dentryId, version, name });
  } catch (error) {
    throw new ArchiveError({
      code: ARCHIVE_CODES.invalidKey,
      message: `${where}: ${(error as Error).message}`,
      cause: error,
    });
  }
}

/**
 * The object under `key` if it already holds this version: our metadata names the version and a size that
 * matches the object's (and DingTalk's size, when known). Anything else under the key is archived over.
 */
async function findArchived(
  s3: S3Client,
  bucket: string,
  key: string,
  version: number,
  expectedSize: number | undefined,
  log: Logger,
): Promise<HeadObjectCommandOutput | undefined> {
  let head: HeadObjectCommandOutput;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (error as Error).name === "NotFound") return undefined;
    if (status === 403) {
      // S3 answers 403 for a missing key when s3:ListBucket is not granted: whether the version is there
      // cannot be told, so archive it (the same bytes again at worst). A real lack of access fails at the upload.
      log.warn("HeadObject answered 403; archiving without knowing whether this version is already there", {
        bucket,
        key,
        hint: "grant s3:ListBucket on the bucket so a missing key answers 404",
      });
      return undefined;
    }
    throw new ArchiveError({
      code: ARCHIVE_CODES.s3,
      message: `looking for s3://${bucket}/${key} failed: ${(error as Error).name} (HTTP ${status ?? "none"})`,
      status,
      retryable: status === undefined || status >= 500 || status === 429,
      cause: error,
    });
  }
  return holdsVersion(head, version, expectedSize) ? head : undefined;
}

function checksumOf(head: HeadObjectCommandOutput): ArchiveChecksum | undefined {
  if (head.ChecksumType !== undefined && head.ChecksumType !== "FULL_OBJECT") return undefined;
  if (head.ChecksumCRC32) return { algorithm: "CRC32", value: head.ChecksumCRC32 };
  if (head.ChecksumCRC64NVME) return { algorithm: "CRC64NVME", value: head.ChecksumCRC64NVME };
  return undefined;
}

function archived(
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

function paused(
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

/** The engine's recoverable events as log lines (they never hold a signed URL's query). */
function logEvent(log: Logger, event: TransferEvent, key: string): void {
  if (event.type === "resume") log.info("resuming from checkpoint", { key, ...event });
  // An expired URL is refreshed as planned; a failed part that is tried again is one WARN line.
  else if (event.type === "refresh") log.debug("transfer refresh", { key, ...event });
  else log.warn(`transfer ${event.type}`, { key, ...event });
}
