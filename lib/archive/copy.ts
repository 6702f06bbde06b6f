/**
 * A rename costs no download: when a dentry's version is already archived under another name (same
 * `{prefix}{spaceId}/{dentryId}/v{version}/` folder, another file name), S3 copies that object server-side to
 * the new key with the new name in its metadata. The old object stays: it is an archive, and a reader may hold
 * its key. 0 DingTalk calls, 0 bytes downloaded.
 *
 *   ListObjectsV2 (the version's folder) ─► HeadObject each other key: our metadata says this version? ─► copy
 *   copy: CopyObject up to 5 GiB; above, a multipart upload of UploadPartCopy ranges (S3's limit per copy)
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { META } from "./metadata";

const GiB = 1024 ** 3;
/** S3 copies at most 5 GiB in one CopyObject or one UploadPartCopy. */
export const MAX_COPY_BYTES = 5 * GiB;
/** Parts of a multipart copy: big (few calls) yet well under the 5 GiB limit and the 10,000-part limit. */
const COPY_PART_BYTES = 1 * GiB;

/** True when `head` is our archive of `version` (and of `expectedSize` bytes, when known). */
export function holdsVersion(
  head: HeadObjectCommandOutput,
  version: number,
  expectedSize: number | undefined,
): boolean {
  const meta = head.Metadata ?? {};
  const size = head.ContentLength;
  return (
    meta[META.version] === String(version) &&
    meta[META.size] === String(size) &&
    (expectedSize === undefined || size === expectedSize)
  );
}

export interface ArchivedElsewhere {
  key: string;
  head: HeadObjectCommandOutput;
}

/** Another key of the version's folder that holds this version, or undefined. */
export async function findUnderOtherName(
  s3: S3Client,
  bucket: string,
  versionFolder: string,
  key: string,
  version: number,
  expectedSize: number | undefined,
): Promise<ArchivedElsewhere | undefined> {
  const listing = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: versionFolder, MaxKeys: 100 }),
  );
  for (const object of listing.Contents ?? []) {
    if (!object.Key || object.Key === key || object.Key.slice(versionFolder.length).includes("/")) continue;
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: object.Key, ChecksumMode: "ENABLED" }),
    );
    if (holdsVersion(head, version, expectedSize)) return { key: object.Key, head };
  }
  return undefined;
}

export interface CopyInput {
  bucket: string;
  from: string;
  to: string;
  size: number;
  contentType: string;
  metadata: Record<string, string>;
  /** The source's full-object checksum algorithm: S3 computes the copy's with it. */
  checksumAlgorithm?: "CRC32" | "CRC64NVME" | undefined;
  /** Above this, copy by UploadPartCopy ranges. Default (and S3's limit) 5 GiB; tests lower it. */
  maxSingleCopyBytes?: number;
  /** Range per UploadPartCopy. Default 1 GiB. */
  partBytes?: number;
}

export interface CopyResult {
  etag: string;
  versionId: string | undefined;
  parts: number;
}

/** S3's x-amz-copy-source: bucket/key, each key segment URL-encoded. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/** Copy `from` to `to` inside the bucket with new metadata; a failed multipart copy is aborted. */
export async function copyArchived(s3: S3Client, input: CopyInput): Promise<CopyResult> {
  const { bucket } = input;
  const source = copySource(bucket, input.from);
  if (input.size <= (input.maxSingleCopyBytes ?? MAX_COPY_BYTES)) {
    const answer = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: input.to,
        CopySource: source,
        MetadataDirective: "REPLACE",
        ContentType: input.contentType,
        Metadata: input.metadata,
        ...(input.checksumAlgorithm ? { ChecksumAlgorithm: input.checksumAlgorithm } : {}),
      }),
    );
    return { etag: answer.CopyObjectResult?.ETag ?? "", versionId: answer.VersionId, parts: 1 };
  }
  const partBytes = input.partBytes ?? COPY_PART_BYTES;
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: input.to,
      ContentType: input.contentType,
      Metadata: input.metadata,
    }),
  );
  const uploadId = created.UploadId as string;
  try {
    const parts: { PartNumber: number; ETag: string }[] = [];
    for (let start = 0, n = 1; start < input.size; start += partBytes, n++) {
      const end = Math.min(input.size, start + partBytes) - 1;
      const part = await s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: input.to,
          UploadId: uploadId,
          PartNumber: n,
          CopySource: source,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      parts.push({ PartNumber: n, ETag: part.CopyPartResult?.ETag ?? "" });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: input.to,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return { etag: done.ETag ?? "", versionId: done.VersionId, parts: parts.length };
  } catch (error) {
    // Never leave a half-made object behind; the lifecycle rule catches an abort that fails too.
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: input.to, UploadId: uploadId }))
      .catch(() => {});
    throw error;
  }
}
