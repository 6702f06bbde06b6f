/** The transfer engine: ranged parallel download from a signed-URL file host into an S3 (multipart) upload. */

export { chooseBodyMode, MAX_BUFFERED_BYTES } from "./body-mode.js";
export {
  type Checkpoint,
  type CheckpointPart,
  type CheckpointRef,
  type CheckpointStore,
  checkpointName,
  fileCheckpointStore,
  memoryCheckpointStore,
  type S3CheckpointStoreOptions,
  s3CheckpointStore,
} from "./checkpoint.js";
export {
  type ChecksumAlgorithm,
  combineCrc,
  combineParts,
  crcFromBase64,
  crcOf,
  crcToBase64,
  createCrc,
  type RunningCrc,
} from "./checksum.js";
export { TransferError, type TransferErrorReason } from "./errors.js";
export { checkDownloadUrl, type HostPolicy, hostMatches, redactUrl } from "./hosts.js";
export {
  DEFAULT_PART_SIZE,
  effectivePartSize,
  type PartPlan,
  type PartRange,
  planParts,
  S3_MAX_PARTS,
  S3_MIN_PART_SIZE,
} from "./plan.js";
export type { DownloadSource, SignedDownload } from "./source.js";
export { DEFAULT_CONCURRENCY, transferToS3 } from "./transfer.js";
export type {
  BodyMode,
  CompletedTransfer,
  PausedTransfer,
  TransferEvent,
  TransferOptions,
  TransferProgress,
  TransferResult,
} from "./types.js";
