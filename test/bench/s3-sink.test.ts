/**
 * The benchmark's S3 sink refuses what S3 refuses, so that a benchmark row's "checked" means something:
 * a wrong declared checksum (header or aws-chunked trailer), a body shorter than declared, a non-last part
 * under 5 MiB, a full-object checksum or MpuObjectSize that differs from the parts'. And its faults do what
 * they say (keepObjects, corruptParts, failCompletes, loseCompleteAnswers, failDeletes). Driven by the AWS SDK.
 */
import { request } from "node:http";
import { Readable } from "node:stream";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sink, startSink } from "../../bench/s3-sink.js";
import { crcOf, crcToBase64 } from "../../lib/transfer/checksum.js";
import { localS3, SILENT_LOGGER } from "../support/world";

const MiB = 1024 * 1024;
let sink: Sink;
let s3: S3Client;
beforeAll(async () => {
  sink = await startSink();
  s3 = localS3(sink.url, { logger: SILENT_LOGGER });
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

  it("refuses a Complete whose MpuObjectSize differs from the parts' bytes (fauxqs does not)", async () => {
    const body = bytes(5 * MiB + 7, 3);
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "b", Key: "size", ChecksumAlgorithm: "CRC32" }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: "b",
        Key: "size",
        UploadId,
        PartNumber: 1,
        Body: body,
        ChecksumAlgorithm: "CRC32",
      }),
    );
    const complete = (size: number) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "b",
          Key: "size",
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] },
          MpuObjectSize: size,
        }),
      );
    await expect(complete(body.length - 1)).rejects.toMatchObject({ name: "InvalidRequest" });
    expect(sink.object("b", "size")).toBeUndefined();
    await complete(body.length);
    expect(sink.object("b", "size")).toMatchObject({ size: body.length });
  });
});

describe("S3 sink faults (for tests of what fauxqs cannot do)", () => {
  async function withSink<T>(
    options: Parameters<typeof startSink>[0],
    use: (c: S3Client, s: Sink) => Promise<T>,
  ) {
    const own = await startSink(options);
    const client = localS3(own.url, { logger: SILENT_LOGGER, maxAttempts: 1 });
    try {
      return await use(client, own);
    } finally {
      client.destroy();
      await own.close();
    }
  }
  const oneUpload = async (client: S3Client, body: Buffer) => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: "b",
        Key: "f",
        ChecksumAlgorithm: "CRC32",
        ChecksumType: "FULL_OBJECT",
      }),
    );
    const part = await client.send(
      new UploadPartCommand({
        Bucket: "b",
        Key: "f",
        UploadId,
        PartNumber: 1,
        Body: body,
        ChecksumCRC32: crc32(body),
      }),
    );
    const complete = () =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: "b",
          Key: "f",
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] },
          ChecksumType: "FULL_OBJECT",
          ChecksumCRC32: part.ChecksumCRC32,
        }),
      );
    return { part, complete };
  };
  const getBytes = async (client: S3Client) => {
    const res = await client.send(new GetObjectCommand({ Bucket: "b", Key: "f" }));
    return Buffer.from(
      await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  };

  it("keepObjects: a multipart object reads back byte for byte", async () => {
    const body = Buffer.from(Array.from({ length: 3 * MiB }, (_, i) => i % 251));
    await withSink({ keepObjects: true }, async (client) => {
      await (await oneUpload(client, body)).complete();
      expect((await getBytes(client)).equals(body)).toBe(true);
    });
  });

  it("corruptParts: the part is stored with one byte changed and its checksum answered for those bytes", async () => {
    const body = bytes(MiB, 9);
    await withSink({ keepObjects: true, corruptParts: 1 }, async (client) => {
      const { part, complete } = await oneUpload(client, body);
      expect(part.ChecksumCRC32).not.toBe(crc32(body));
      await complete(); // listing the checksum S3 answered, the upload completes: only the bytes tell
      const stored = await getBytes(client);
      expect(stored.length).toBe(body.length);
      expect(stored.equals(body)).toBe(false);
      expect(part.ChecksumCRC32).toBe(crc32(stored));
    });
  });

  it("failCompletes: 500 and nothing applied; loseCompleteAnswers: 500 but the object is there", async () => {
    const body = bytes(MiB, 4);
    await withSink({ failCompletes: 1, loseCompleteAnswers: 1 }, async (client, own) => {
      const { complete } = await oneUpload(client, body);
      await expect(complete()).rejects.toMatchObject({ name: "InternalError" });
      expect(own.object("b", "f")).toBeUndefined();
      expect(own.openUploads()).toBe(1);
      await expect(complete()).rejects.toMatchObject({ name: "InternalError" });
      expect(own.object("b", "f")).toMatchObject({ size: body.length, crc32: crc32(body) });
      expect(own.openUploads()).toBe(0);
      await expect(complete()).rejects.toMatchObject({ name: "NoSuchUpload" }); // the SDK's retry sees this
    });
  });

  it("failDeletes: DeleteObject answered 500 and the object stays", async () => {
    await withSink({ failDeletes: 1 }, async (client, own) => {
      await client.send(new PutObjectCommand({ Bucket: "b", Key: "f", Body: bytes(10) }));
      await expect(client.send(new DeleteObjectCommand({ Bucket: "b", Key: "f" }))).rejects.toMatchObject({
        name: "InternalError",
      });
      expect(own.object("b", "f")).toBeDefined();
      await client.send(new DeleteObjectCommand({ Bucket: "b", Key: "f" }));
      expect(own.object("b", "f")).toBeUndefined();
    });
  });
});
