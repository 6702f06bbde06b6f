/**
 * The one error the transfer engine throws. `reason` is a stable code for callers (retry or not, what to
 * report); the message says what failed in words. Messages and fields never hold a signed URL's query or
 * signature headers: at most the host and path (see redactUrl).
 */
export type TransferErrorReason =
  /** Bad arguments (size, part size, concurrency...). Not retryable. */
  | "invalidInput"
  /** A download URL points at a host or scheme that is not allowed. Not retryable. */
  | "hostNotAllowed"
  /** source.getDownloadInfo() failed or returned no usable URL. */
  | "downloadInfo"
  /** A range kept failing (network, 5xx, truncation, stall) after every attempt and every URL. */
  | "download"
  /** The file host refused the file for good (404, 410, 416, a redirect...). */
  | "sourceRejected"
  /** The file host's size (Content-Range total, Content-Length, bytes received) differs from the expected size. */
  | "sizeMismatch"
  /** An S3 call failed after the SDK's and the engine's retries. */
  | "upload"
  /** The multipart upload no longer exists (aborted elsewhere, e.g. by a lifecycle rule). */
  | "uploadGone"
  /** S3's checksum of the object differs from the one computed while streaming. */
  | "checksumMismatch"
  /** The caller's AbortSignal fired. */
  | "aborted";

/** Reasons worth retrying the whole transfer later (e.g. by redelivering the queue message). */
const RETRYABLE: ReadonlySet<TransferErrorReason> = new Set([
  "downloadInfo",
  "download",
  "upload",
  "uploadGone",
]);

export interface TransferErrorDetails {
  partNumber?: number;
  /** Host and path of the URL involved, never its query. */
  url?: string;
  /** HTTP status from the file host or S3. */
  status?: number;
  cause?: unknown;
}

export class TransferError extends Error {
  readonly reason: TransferErrorReason;
  readonly partNumber: number | undefined;
  readonly url: string | undefined;
  readonly status: number | undefined;

  constructor(reason: TransferErrorReason, message: string, details: TransferErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "TransferError";
    this.reason = reason;
    this.partNumber = details.partNumber;
    this.url = details.url;
    this.status = details.status;
  }

  /** Whether trying the same transfer again later may succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.reason);
  }
}

/** A short description of any thrown value, for messages (never includes a URL query: callers pass redacted text). */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
