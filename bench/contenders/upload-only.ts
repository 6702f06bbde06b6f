/**
 * Ceiling of the S3 side: the same multipart upload the engine makes (streamed parts with the SDK's CRC32
 * trailer, `concurrency` at a time, a FULL_OBJECT CRC32 on completion), but from bytes generated in this
 * process (the sandbox's generator) instead of downloaded ones.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { combineParts, crcFromBase64, crcToBase64 } from "../../lib/transfer/checksum.js";
import { planParts } from "../../lib/transfer/plan.js";
import { generatedStream } from "../../sandbox/content.js";
import { measure, s3Client, spec } from "./common.js";

const s3 = s3Client();
await measure(async () => {
  const { Bucket, Key } = { Bucket: spec.bucket, Key: spec.key };
  const plan = planParts(spec.size, spec.partSize);
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket,
      Key,
      ChecksumAlgorithm: "CRC32",
      ChecksumType: "FULL_OBJECT",
    }),
  );
  const queue = [...plan.parts];
  const done: Array<{ PartNumber: number; ETag: string; ChecksumCRC32: string; length: number }> = [];
  const worker = async () => {
    for (let part = queue.shift(); part; part = queue.shift()) {
      const res = await s3.send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber: part.partNumber,
          Body: generatedStream(spec.seed as string, spec.size, part.start, part.end),
          ContentLength: part.length,
          ChecksumAlgorithm: "CRC32",
        }),
      );
      done.push({
        PartNumber: part.partNumber,
        ETag: res.ETag as string,
        ChecksumCRC32: res.ChecksumCRC32 as string,
        length: part.length,
      });
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency ?? 8 }, worker));
  done.sort((a, b) => a.PartNumber - b.PartNumber);
  const full = combineParts(
    "CRC32",
    done.map((p) => ({ crc: crcFromBase64("CRC32", p.ChecksumCRC32), length: p.length })),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key,
      UploadId,
      MultipartUpload: { Parts: done.map(({ length: _, ...p }) => p) },
      ChecksumType: "FULL_OBJECT",
      ChecksumCRC32: crcToBase64("CRC32", full),
      MpuObjectSize: spec.size,
    }),
  );
  return { key: Key, bytes: spec.size };
});
