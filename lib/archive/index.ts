/** Archive one DingTalk file version into S3: skip-if-archived, key + metadata, resume from a checkpoint. */
export { type ArchiveDeps, type ArchiveRequest, archiveFile, archiveRequestSchema } from "./archive-file";
export {
  ARCHIVE_CODES,
  ArchiveError,
  type ArchiveErrorInit,
  ArchiveRetryLater,
  isArchiveRetryLater,
  toArchiveError,
} from "./errors";
export { type ArchiveKeyInput, archiveKey, FALLBACK_NAME, S3_MAX_KEY_BYTES, safeName } from "./key";
export {
  asciiSafe,
  contentTypeFor,
  DEFAULT_CONTENT_TYPE,
  META,
  objectMetadata,
  readMetadataValue,
  S3_MAX_METADATA_BYTES,
  type SourceFacts,
  storedContentTypeFor,
} from "./metadata";
export { formatBytes, formatProgress } from "./progress";
export type {
  ArchiveChecksum,
  ArchivedResult,
  ArchiveProgress,
  ArchiveResult,
  PausedResult,
  SkippedResult,
} from "./result";
