/** The engine's public shapes: its options, what it reports while running, and what it returns. */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Dispatcher } from "undici";
import type { Checkpoint, CheckpointStore } from "./checkpoint.js";
import type { ChecksumAlgorithm } from "./checksum.js";
import type { DownloadSource } from "./source.js";

export interface TransferProgress {
  bytesDone: number;
  partsDone: number;
  partsTotal: number;
  /** Bytes of completed parts per second, over this call (resumed parts not counted). */
  bytesPerSecond: number;
}

/** Recoverable things worth a log line. Never carries a signed URL's query or headers. */
export type TransferEvent =
  | { type: "retry"; partNumber: number | undefined; attempt: number; error: string }
  | { type: "refresh"; partNumber: number | undefined; error: string }
  | { type: "fallback"; error: string }
  | { type: "resume"; uploadId: string; partsDone: number }
  | { type: "restart"; reason: string }
  | { type: "checkpointError"; error: string }
  | { type: "cleanupError"; error: string }
  | { type: "checksumUnverified"; detail: string };

/** How each part's bytes reach UploadPart; "auto" (the default) decides by chooseBodyMode. */
export type BodyMode = "buffer" | "stream" | "auto";

export interface TransferOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  /** DingTalk's size of the file; the object must end up exactly this long. */
  size: number;
  contentType?: string | undefined;
  metadata?: Record<string, string> | undefined;
  source: DownloadSource;
  /** DingTalk's version of the file, kept in the checkpoint so a new version never resumes onto old parts. */
  sourceVersion?: string | number | undefined;
  /** Hosts download URLs may point at: `host`, `host:port` or `*.suffix`. https only, unless also in allowHttpHosts. */
  allowedHosts: readonly string[];
  allowHttpHosts?: readonly string[] | undefined;
  /** Default 8 MiB, min 5 MiB; grown so no file needs more than 10,000 parts. */
  partSize?: number | undefined;
  /** Parts in flight at once. Default 8. */
  concurrency?: number | undefined;
  /** Default CRC32 (computed by native zlib, ~10× cheaper than CRC64NVME in JS). */
  checksumAlgorithm?: ChecksumAlgorithm | undefined;
  bodyMode?: BodyMode | undefined;
  checkpoint?: CheckpointStore | undefined;
  /** Checked before each new part (and before a retry): true = finish the parts in flight, then pause. */
  shouldStop?: (() => boolean) | undefined;
  onProgress?: ((p: TransferProgress) => void) | undefined;
  onEvent?: ((e: TransferEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Connection pool for the downloads. Default: an undici Agent created (and closed) by this call. */
  dispatcher?: Dispatcher | undefined;
  /** Attempts per part (each re-fetches the range). Default 5. */
  attempts?: number | undefined;
  /** Backoff between attempts: full jitter on base·2^n, capped. Defaults 200 ms, 5 s. */
  backoff?: { baseMs?: number; maxMs?: number } | undefined;
  /** Wait for response headers, and max silence inside a body (a stalled part). Defaults 30 s, 30 s. */
  headersTimeoutMs?: number | undefined;
  idleTimeoutMs?: number | undefined;
  /** Refresh download info before starting a part when fewer seconds remain. Default 60. */
  expiryMarginSeconds?: number | undefined;
}

export interface CompletedTransfer {
  status: "completed";
  bucket: string;
  key: string;
  size: number;
  etag: string;
  versionId: string | undefined;
  checksumAlgorithm: ChecksumAlgorithm;
  /** The full-object CRC computed while streaming, base64 as S3 shows it. */
  checksum: string;
  /** "match": S3 answered the same full-object checksum. "unavailable": S3 answered none or a composite one. */
  s3Checksum: "match" | "unavailable";
  /** single = one PutObject; multipart = ranged parts; stream = the host ignored Range, one streamed GET. */
  method: "single" | "multipart" | "stream";
  parts: number;
  partSize: number;
  /** Parts taken over from a checkpoint rather than sent by this call. */
  resumedParts: number;
  /** Bytes downloaded more than once (failed attempts, or parts redone after a fallback or restart). */
  bytesResent: number;
  seconds: number;
}

export interface PausedTransfer {
  status: "paused";
  checkpoint: Checkpoint;
  partsDone: number;
  partsTotal: number;
  bytesDone: number;
  seconds: number;
}

export type TransferResult = CompletedTransfer | PausedTransfer;
