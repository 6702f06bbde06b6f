/**
 * The benchmark's S3 sink refuses what S3 refuses, so that a benchmark row's "checked" means something:
 * a wrong declared checksum (header or aws-chunked trailer), a body shorter than declared, a non-last part
 * under 5 MiB, and a full-object checksum that differs from the parts'. Driven by the AWS SDK.
 */
import { request } from "node:http";
import { Readable } from "node:stream";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sink, startSink } from "../../bench/s3-sink.js";
import { crcOf, crcToBase64 } from "../../lib/transfer/checksum.js";

const MiB = 1024 * 1024;
let sink: Sink;
let s3: S3Client;
beforeAll(async () => {
  sink = await startSink();
  s3 = new S3Client({
    endpoint: sink.url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
});
afterAll(async () => {
  s3.destroy();
  await sink.close();
});

const crc32 = (b: Buffer) => crcToBase64("CRC32", crcOf("CRC32", b));
const bytes = (n: number, seed = 1) => Buffer.alloc(n, seed);

describe("S3 sink", () => {
  it("stores a multipart upload's size and CRC32, streamed parts with a CRC32 trailer, and answers its full-object CRC32", async () => {
    const parts = [bytes(5 * MiB, 1), bytes(1234, 2)];
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: "b",
        Key: "ok",
        ChecksumAlgorithm: "CRC32",
        ChecksumType: "FULL_OBJECT",
      }),
    );
    const done = [];
    for (const [i, body] of parts.entries()) {
      const res = await s3.send(
        new UploadPartCommand({
          Bucket: "b",
          Key: "ok",
          UploadId,
          PartNumber: i + 1,
          Body: Readable.from([body]), // a stream: the SDK sends aws-chunked with a trailing checksum
          ContentLength: body.length,
          ChecksumAlgorithm: "CRC32",
        }),
      );
      expect(res.ChecksumCRC32).toBe(crc32(body));
      done.push({ PartNumber: i + 1, ETag: res.ETag, ChecksumCRC32: res.ChecksumCRC32 });
    }
    const whole = crc32(Buffer.concat(parts));
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "b",
        Key: "ok",
        UploadId,
        MultipartUpload: { Parts: done },
        ChecksumType: "FULL_OBJECT",
        ChecksumCRC32: whole,
        MpuObjectSize: 5 * MiB + 1234,
      }),
    );
    expect(completed).toMatchObject({ ChecksumCRC32: whole, ChecksumType: "FULL_OBJECT" });
    expect(sink.object("b", "ok")).toMatchObject({
      size: 5 * MiB + 1234,
      crc32: whole,
      parts: 2,
      verifiedParts: 2,
      fullObjectChecksum: "CRC32",
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: "b", Key: "ok", ChecksumMode: "ENABLED" }));
    expect(head).toMatchObject({ ContentLength: 5 * MiB + 1234, ChecksumCRC32: whole });
  });

  it("refuses a body whose declared CRC32 is wrong (BadDigest)", async () => {
    const body = bytes(1000);
    const put = s3.send(
      new PutObjectCommand({ Bucket: "b", Key: "bad", Body: body, ChecksumCRC32: crc32(bytes(1000, 9)) }),
    );
    await expect(put).rejects.toMatchObject({ name: "BadDigest" });
    expect(sink.object("b", "bad")).toBeUndefined();
  });

  it("refuses a wrong aws-chunked trailer and a body shorter than declared", async () => {
    const send = (headers: Record<string, string | number>, body: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${sink.url}/b/raw`, { method: "PUT", headers }, (res) => {
          let text = "";
          res.on("data", (d) => {
            text += d;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on("error", reject);
        req.end(body);
      });
    const chunked = (trailer: string) => `5\r\nhello\r\n0\r\nx-amz-checksum-crc32:${trailer}\r\n\r\n`;
    const headers = {
      "content-encoding": "aws-chunked",
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "x-amz-decoded-content-length": 5,
      "x-amz-trailer": "x-amz-checksum-crc32",
    };
    const good = crc32(Buffer.from("hello"));
    expect((await send({ ...headers, "content-length": chunked(good).length }, chunked(good))).status).toBe(
      200,
    );
    const wrong = await send(
      { ...headers, "content-length": chunked("AAAAAA==").length },
      chunked("AAAAAA=="),
    );
    expect(wrong).toMatchObject({ status: 400, text: expect.stringContaining("BadDigest") });
    const short = await send(
      { ...headers, "x-amz-decoded-content-length": 6, "content-length": chunked(good).length },
      chunked(good),
    );
    expect(short).toMatchObject({ status: 400, text: expect.stringContaining("IncompleteBody") });
  });

  it("refuses a non-last part under 5 MiB, and a full-object CRC32 that differs from the parts'", async () => {
    const upload = async (sizes: number[]) => {
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: "b",
          Key: "k",
          ChecksumAlgorithm: "CRC32",
          ChecksumType: "FULL_OBJECT",
        }),
      );
      const parts = [];
      for (const [i, n] of sizes.entries()) {
        const res = await s3.send(
          new UploadPartCommand({
            Bucket: "b",
            Key: "k",
            UploadId,
            PartNumber: i + 1,
            Body: bytes(n),
            ChecksumAlgorithm: "CRC32",
          }),
        );
        parts.push({ PartNumber: i + 1, ETag: res.ETag, ChecksumCRC32: res.ChecksumCRC32 });
      }
      return { UploadId, parts };
    };
    const small = await upload([1024, 1024]);
    await expect(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "b",
          Key: "k",
          UploadId: small.UploadId,
          MultipartUpload: { Parts: small.parts },
        }),
      ),
    ).rejects.toMatchObject({ name: "EntityTooSmall" });

    const ok = await upload([5 * MiB, 10]);
    await expect(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "b",
          Key: "k",
          UploadId: ok.UploadId,
          MultipartUpload: { Parts: ok.parts },
          ChecksumType: "FULL_OBJECT",
          ChecksumCRC32: "AAAAAA==",
        }),
      ),
    ).rejects.toMatchObject({ name: "BadDigest" });
    expect(sink.stats.refused).toBeGreaterThanOrEqual(2);
  });
});
