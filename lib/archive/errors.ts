/**
 * How archiving one file can fail, in the terms its callers act on:
 * - ArchiveRetryLater: not a failure yet. DingTalk is unarchiving the file (fileArchived) or banned our IP for
 *   a while; a queue should redeliver the request after `retryAfterMs`.
 * - ArchiveError: anything else, with a stable `code` (DingTalk's own code when DingTalk refused, with its
 *   `requestId`, which is what DingTalk support asks for) and whether trying again later may help.
 * The original DingTalkError / TransferError / S3 error stays reachable as `cause` (lib/http's toAppError
 * looks through `cause` for a DingTalkError).
 */
import { DingTalkError } from "../dingtalk";
import { TransferError } from "../transfer";

/** Codes this module assigns itself; DingTalk's codes (dentryNotExist, permissionDenied...) pass through. */
export const ARCHIVE_CODES = {
  /** No unionId in the request and no default operator configured. */
  missingUnionId: "MissingUnionId",
  /** The dentry is a folder: only files are archived one by one. */
  notAFile: "NotAFile",
  /** DingTalk's answer lacks what the archive needs (a version). */
  incompleteDentry: "IncompleteDentry",
  /** The file host did not tell the size of an older version (the size probe found no answer). */
  sizeUnknown: "SizeUnknown",
  /** The key cannot be built (ARCHIVE_PREFIX too long, a malformed id). */
  invalidKey: "InvalidKey",
  /** Looking up the existing object in S3 failed. */
  s3: "S3Error",
} as const;

export interface ArchiveErrorInit {
  code: string;
  message: string;
  retryable?: boolean;
  /** DingTalk's request id, when DingTalk produced the failure. */
  requestId?: string | undefined;
  /** HTTP status of the failed call (DingTalk, the file host or S3), when there was one. */
  status?: number | undefined;
  cause?: unknown;
}

export class ArchiveError extends Error {
  override readonly name: string = "ArchiveError";
  readonly code: string;
  readonly retryable: boolean;
  readonly requestId: string | undefined;
  readonly status: number | undefined;

  constructor(init: ArchiveErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.retryable = init.retryable ?? false;
    this.requestId = init.requestId;
    this.status = init.status;
  }
}

/** Try again after `retryAfterMs` (e.g. as an SQS visibility timeout): the file is not available yet. */
export class ArchiveRetryLater extends ArchiveError {
  override readonly name = "ArchiveRetryLater";
  readonly retryAfterMs: number;

  constructor(init: ArchiveErrorInit & { retryAfterMs: number }) {
    super({ ...init, retryable: true });
    this.retryAfterMs = init.retryAfterMs;
  }
}

export function isArchiveRetryLater(error: unknown): error is ArchiveRetryLater {
  return error instanceof ArchiveRetryLater;
}

/** Any failure inside archiveFile as an ArchiveError (or ArchiveRetryLater). */
export function toArchiveError(error: unknown, context: string): ArchiveError {
  if (error instanceof ArchiveError) return error;
  const dingtalk = findDingTalkError(error);
  if (dingtalk) return fromDingTalk(dingtalk, context, error);
  if (error instanceof TransferError) {
    return new ArchiveError({
      code: `Transfer.${error.reason}`,
      message: `${context}: ${error.message}`,
      retryable: error.retryable,
      status: error.status,
      cause: error,
    });
  }
  return new ArchiveError({
    code: "InternalError",
    message: `${context}: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}

function fromDingTalk(error: DingTalkError, context: string, cause: unknown): ArchiveError {
  const init = {
    code: error.code,
    message: `${context}: ${error.message}`,
    requestId: error.requestId,
    status: error.status,
    retryable: error.retryable,
    cause,
  };
  return error.retryAfterMs !== undefined
    ? new ArchiveRetryLater({ ...init, retryAfterMs: error.retryAfterMs })
    : new ArchiveError(init);
}

/** A DingTalkError thrown directly, or wrapped by the transfer engine (a refresh of the download info failed). */
function findDingTalkError(error: unknown): DingTalkError | undefined {
  for (let link = error, depth = 0; link instanceof Error && depth < 5; depth++) {
    if (link instanceof DingTalkError) return link;
    link = link.cause;
  }
  return undefined;
}
