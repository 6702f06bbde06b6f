/**
 * The S3 side: thin wrappers over the commands the engine sends, each with the full-object checksum fields
 * set the same way, plus the classification of S3 errors (retry, start over, give up).
 */
import { createHash } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  type UploadPartCommandInput,
  type UploadPartCommandOutput,
} from "@aws-sdk/client-s3";
// Type only (erased from the bundle): the SDK's own middleware type, from the package that defines it.
import type { BuildMiddleware } from "@smithy/types";
import type { ChecksumAlgorithm } from "./checksum.js";
import type { AwsChunkedBody } from "./chunked-body.js";
import { TRAILER_NAME } from "./chunked-body.js";

export interface ObjectTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  contentType?: string | undefined;
  metadata?: Record<string, string> | undefined;
  algorithm: ChecksumAlgorithm;
}

/** What S3 said about the stored object. */
export interface StoredObject {
  etag: string;
  versionId: string | undefined;
  /** S3's checksum of the object in its checksum field for `algorithm` (base64; "…-N" when composite). */
  checksum: string | undefined;
  checksumType: string | undefined;
}

type ChecksumField = "ChecksumCRC32" | "ChecksumCRC64NVME";
const FIELD: Record<ChecksumAlgorithm, ChecksumField> = {
  CRC32: "ChecksumCRC32",
  CRC64NVME: "ChecksumCRC64NVME",
};

const opts = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});

/** What PutObject, CompleteMultipartUpload and HeadObject answered about the object, in one shape. */
function storedObject(
  res: { ETag?: string | undefined; VersionId?: string | undefined; ChecksumType?: string | undefined } & {
    [F in ChecksumField]?: string | undefined;
  },
  algorithm: ChecksumAlgorithm,
): StoredObject {
  return {
    etag: res.ETag ?? "",
    versionId: res.VersionId,
    checksum: res[FIELD[algorithm]],
    checksumType: res.ChecksumType,
  };
}

export async function createMultipart(t: ObjectTarget, signal?: AbortSignal): Promise<string> {
  const res = await t.s3.send(
    new CreateMultipartUploadCommand({
      Bucket: t.bucket,
      Key: t.key,
      ContentType: t.contentType,
      Metadata: t.metadata,
      ChecksumAlgorithm: t.algorithm,
      // The object's checksum is then a CRC of all its bytes, comparable with any other copy of the file,
      // rather than a checksum of part checksums that depends on the part size.
      ChecksumType: "FULL_OBJECT",
    }),
    opts(signal),
  );
  if (!res.UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
  return res.UploadId;
}

/**
 * One part held in memory, with the checksum the engine computed while reading it in a header (the SDK can
 * then retry it itself). A streamed part goes through uploadPartChunked.
 */
export async function uploadPart(
  t: ObjectTarget,
  part: { uploadId: string; partNumber: number; body: Buffer; length: number; checksum: string },
  signal?: AbortSignal,
): Promise<{ etag: string; checksum: string | undefined }> {
  const command = uploadPartCommand(t, part, part.checksum);
  return sentPart(t, part.partNumber, await t.s3.send(command, opts(signal)));
}

/** UploadPart of one part, `checksum` (base64, the target's algorithm) in its header. */
function uploadPartCommand(
  t: ObjectTarget,
  part: { uploadId: string; partNumber: number; body: UploadPartCommandInput["Body"]; length: number },
  checksum: string,
): UploadPartCommand {
  return new UploadPartCommand({
    Bucket: t.bucket,
    Key: t.key,
    UploadId: part.uploadId,
    PartNumber: part.partNumber,
    Body: part.body,
    ContentLength: part.length,
    ChecksumAlgorithm: t.algorithm,
    [FIELD[t.algorithm]]: checksum,
  });
}

/** A part S3 took: its ETag (which Complete needs) and the checksum S3 computed for it. */
function sentPart(t: ObjectTarget, partNumber: number, res: UploadPartCommandOutput) {
  if (!res.ETag) throw new Error(`UploadPart ${partNumber} returned no ETag`);
  return { etag: res.ETag, checksum: res[FIELD[t.algorithm]] };
}

/**
 * A placeholder for the part's checksum header. Any x-amz-checksum-* header makes the SDK's flexible-checksums
 * middleware leave the request alone (no stream wrapping, no second CRC pass); ownTrailer then removes it and
 * sends the body as the engine framed it. Were it ever sent, S3 would refuse the part (BadDigest): a retry.
 */
const PENDING_CHECKSUM: Record<ChecksumAlgorithm, string> = { CRC32: "AAAAAA==", CRC64NVME: "AAAAAAAAAAA=" };

/** Runs after flexible checksums (build step, low priority), before signing: the aws-chunked request. */
function ownTrailer(
  algorithm: ChecksumAlgorithm,
  body: AwsChunkedBody,
  decodedLength: number,
): BuildMiddleware<UploadPartCommandInput, UploadPartCommandOutput> {
  return (next) => async (args) => {
    const request = args.request as { headers: Record<string, string>; body: unknown };
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      const lower = name.toLowerCase();
      if (lower !== TRAILER_NAME[algorithm] && lower !== "content-length") headers[name] = value;
    }
    Object.assign(headers, {
      "content-length": String(body.encodedLength),
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(decodedLength),
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "x-amz-trailer": TRAILER_NAME[algorithm],
    });
    request.headers = headers;
    request.body = body;
    return next(args);
  };
}

/**
 * One part from a stream the engine framed itself (AwsChunkedBody: its own CRC as the trailer). As with any
 * streamed part, the SDK cannot retry it; the engine re-fetches the range.
 */
export async function uploadPartChunked(
  t: ObjectTarget,
  part: { uploadId: string; partNumber: number; body: AwsChunkedBody; length: number },
  signal?: AbortSignal,
): Promise<{ etag: string; checksum: string | undefined }> {
  const command = uploadPartCommand(t, part, PENDING_CHECKSUM[t.algorithm]);
  command.middlewareStack.add(ownTrailer(t.algorithm, part.body, part.length), {
    step: "build",
    priority: "low",
    name: "engineOwnChecksumTrailer",
  });
  return sentPart(t, part.partNumber, await t.s3.send(command, opts(signal)));
}

/** The parts a multipart upload is completed with, and the whole object's size and checksum S3 must find. */
interface Completion {
  uploadId: string;
  parts: ReadonlyArray<{ partNumber: number; etag: string; checksum: string }>;
  full: { checksum: string; size: number };
}

async function completeMultipart(
  t: ObjectTarget,
  { uploadId, parts, full }: Completion,
  signal?: AbortSignal,
): Promise<StoredObject> {
  const completed: CompletedPart[] = parts.map((p) => ({
    PartNumber: p.partNumber,
    ETag: p.etag,
    [FIELD[t.algorithm]]: p.checksum,
  }));
  const res = await t.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: t.bucket,
      Key: t.key,
      UploadId: uploadId,
      MultipartUpload: { Parts: completed },
      ChecksumType: "FULL_OBJECT",
      // S3 checks both against what it stored, and refuses to complete on a mismatch.
      [FIELD[t.algorithm]]: full.checksum,
      MpuObjectSize: full.size,
    }),
    opts(signal),
  );
  return storedObject(res, t.algorithm);
}

/**
 * After CompleteMultipartUpload answered NoSuchUpload: the object under the key, if it is the one these parts
 * make. That answer also comes when an earlier try of the same Complete did complete the upload but its
 * answer was lost (the SDK then retries, and the upload is gone because it became the object). It is ours
 * when its size matches and either its ETag is the multipart ETag of these parts (MD5 of the parts' MD5s,
 * "-N") or S3 shows our full-object checksum. Undefined otherwise (no object, another one, HeadObject failed).
 */
export async function findCompletedObject(
  t: ObjectTarget,
  parts: ReadonlyArray<{ etag: string }>,
  full: { checksum: string; size: number },
): Promise<StoredObject | undefined> {
  let head: HeadObjectCommandOutput;
  try {
    head = await t.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key, ChecksumMode: "ENABLED" }));
  } catch {
    return undefined;
  }
  if (head.ContentLength !== full.size) return undefined;
  const checksum = head[FIELD[t.algorithm]];
  const sameChecksum = head.ChecksumType === "FULL_OBJECT" && checksum === full.checksum;
  const expectedEtag = multipartEtag(parts);
  const sameEtag = expectedEtag !== undefined && unquote(head.ETag ?? "") === expectedEtag;
  if (!sameChecksum && !sameEtag) return undefined;
  return storedObject(head, t.algorithm);
}

const unquote = (etag: string) => etag.replace(/^"|"$/g, "");

/** S3's ETag of a multipart object whose parts have MD5 ETags; undefined when a part's ETag is not an MD5. */
function multipartEtag(parts: ReadonlyArray<{ etag: string }>): string | undefined {
  const digests: Buffer[] = [];
  for (const part of parts) {
    const hex = unquote(part.etag);
    if (!/^[0-9a-f]{32}$/i.test(hex)) return undefined;
    digests.push(Buffer.from(hex, "hex"));
  }
  return `${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${parts.length}`;
}

/** Best effort: returns the error instead of throwing, so it never hides the failure that caused the abort. */
export async function abortMultipart(t: ObjectTarget, uploadId: string): Promise<unknown> {
  try {
    await t.s3.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId }));
    return undefined;
  } catch (err) {
    return isNoSuchUpload(err) ? undefined : err;
  }
}

/** A whole small file in one request, with its checksum (S3 refuses the object if the bytes do not match). */
export async function putSingle(
  t: ObjectTarget,
  body: Buffer,
  checksum: string,
  signal?: AbortSignal,
): Promise<StoredObject> {
  const res = await t.s3.send(
    new PutObjectCommand({
      Bucket: t.bucket,
      Key: t.key,
      Body: body,
      ContentLength: body.length,
      ContentType: t.contentType,
      Metadata: t.metadata,
      ChecksumAlgorithm: t.algorithm,
      [FIELD[t.algorithm]]: checksum,
    }),
    opts(signal),
  );
  return storedObject(res, t.algorithm);
}

/**
 * CompleteMultipartUpload, and when its answer says it failed in a way that may hide success (a dropped
 * connection, a 5xx, or NoSuchUpload from the SDK's retry after the upload became the object), the object
 * under the key if it is the one these parts make (findCompletedObject). Otherwise the Complete's error.
 */
export async function completeOrFind(
  t: ObjectTarget,
  uploadId: string,
  parts: ReadonlyArray<{ partNumber: number; etag: string; checksum: string }>,
  full: { checksum: string; size: number },
  signal?: AbortSignal,
): Promise<StoredObject> {
  try {
    return await completeMultipart(t, { uploadId, parts, full }, signal);
  } catch (err) {
    if (!isNoSuchUpload(err) && !isRetryableS3(err)) throw err;
    const found = await findCompletedObject(t, parts, full);
    if (!found) throw err;
    return found;
  }
}

interface AwsErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function s3Status(err: unknown): number | undefined {
  return (err as AwsErrorShape | undefined)?.$metadata?.httpStatusCode;
}

export function isNoSuchUpload(err: unknown): boolean {
  const e = err as AwsErrorShape | undefined;
  return e?.name === "NoSuchUpload" || e?.Code === "NoSuchUpload";
}

/** S3 found that the bytes it received do not match the checksum sent with them. */
export function isChecksumMismatch(err: unknown): boolean {
  const e = err as AwsErrorShape | undefined;
  return ["BadDigest", "XAmzContentChecksumMismatch"].includes(e?.name ?? e?.Code ?? "");
}

/** Worth sending again: throttling, 5xx, timeouts, and network errors (no HTTP status at all). */
export function isRetryableS3(err: unknown): boolean {
  const e = err as AwsErrorShape | undefined;
  const status = s3Status(err);
  if (status === undefined) return true;
  if (status >= 500 || status === 429 || status === 408) return true;
  return ["RequestTimeout", "SlowDown", "RequestTimeTooSkewed", "IncompleteBody"].includes(e?.name ?? "");
}
