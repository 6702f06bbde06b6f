/** Archive one DingTalk file version into S3: skip-if-archived, key + metadata, resume from a checkpoint. */
export {
  type ArchiveChecksum,
  type ArchiveDeps,
  type ArchivedResult,
  type ArchiveProgress,
  type ArchiveResult,
  archiveFile,
  type PausedResult,
  type SkippedResult,
} from "./archive-file";
export {
  ARCHIVE_CODES,
  ArchiveError,
  type ArchiveErrorInit,
  ArchiveRetryLater,
  isArchiveRetryLater,
  toArchiveError,
} from "./errors";
export { type ArchiveKeyInput, archiveKey, FALLBACK_NAME, S3_MAX_KEY_BYTES, safeName } from "./key";
// The metadata an archived object carries (the rest of ./metadata is the archive's own business).
export { META, objectMetadata, readMetadataValue } from "./metadata";
export { formatBytes, formatProgress } from "./progress";
export { type ArchiveRequest, archiveRequestSchema } from "./request";
