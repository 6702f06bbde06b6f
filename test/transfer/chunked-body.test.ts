/**
 * The engine's own aws-chunked framing of a streamed part: the bytes the sink (like S3) decodes are the part's
 * bytes, the trailer carries the CRC the tap computed, and the length announced up front is exact.
 */
import { PassThrough, Readable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { BodyChecker } from "../../bench/sink-body.js";
import { AwsChunkedBody, awsChunkedLength, TRAILER_NAME } from "../../lib/transfer/chunked-body.js";
import { crcOf, crcToBase64 } from "../../lib/transfer/index.js";
import { PartTap } from "../../lib/transfer/range-fetch.js";
import { uploadPartChunked } from "../../lib/transfer/upload.js";

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

/** Decode aws-chunked: the payload and the trailers. */
function decode(wire: Buffer): { payload: Buffer; trailers: Map<string, string>; frames: number[] } {
  const parts: Buffer[] = [];
  const frames: number[] = [];
  let at = 0;
  for (;;) {
    const eol = wire.indexOf("\r\n", at);
    const size = Number.parseInt(wire.subarray(at, eol).toString("latin1"), 16);
    at = eol + 2;
    if (size === 0) break;
    frames.push(size);
    parts.push(wire.subarray(at, at + size));
    at += size;
    expect(wire.subarray(at, at + 2).toString()).toBe("\r\n");
    at += 2;
  }
  const trailers = new Map<string, string>();
  const rest = wire.subarray(at).toString("latin1");
  expect(rest.endsWith("\r\n\r\n")).toBe(true);
  for (const line of rest.split("\r\n").filter(Boolean)) {
    const colon = line.indexOf(":");
    trailers.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return { payload: Buffer.concat(parts), trailers, frames };
}

function feed(data: Buffer, pieces: number[], chunk?: number) {
  const tap = new PartTap(data.length, "CRC32");
  const body = new AwsChunkedBody(tap, "CRC32", chunk);
  const source = new PassThrough();
  source.pipe(tap);
  let at = 0;
  for (const n of pieces) {
    source.write(data.subarray(at, at + n));
    at += n;
  }
  if (at < data.length) source.write(data.subarray(at));
  source.end();
  return body;
}

describe("AwsChunkedBody", () => {
  const data = Buffer.from(Array.from({ length: 300_001 }, (_, i) => (i * 7919) % 256));

  it.each([
    ["one write", [data.length], 65_536],
    ["writes across frame edges", [1, 65_535, 65_537, 100_000], 65_536],
    ["many small writes", Array.from({ length: 300 }, () => 1000), 100_000],
  ])(
    "%s: decodes to the bytes, the trailer is their CRC32, the length is exact",
    async (_n, pieces, chunk) => {
      const body = feed(data, pieces, chunk);
      const wire = await collect(body);
      expect(wire.length).toBe(body.encodedLength);
      expect(body.encodedLength).toBe(awsChunkedLength(data.length, "CRC32", chunk));
      const { payload, trailers, frames } = decode(wire);
      expect(payload.equals(data)).toBe(true);
      expect(frames.slice(0, -1).every((f) => f === chunk)).toBe(true);
      expect(trailers.get(TRAILER_NAME.CRC32)).toBe(crcToBase64("CRC32", crcOf("CRC32", data)));
    },
  );

  it("is accepted by the bench's S3-like body check (decoded length, trailer checksum)", async () => {
    const body = feed(data, [12_345, 200_000]);
    const wire = await collect(body);
    const check = new BodyChecker({
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(data.length),
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "x-amz-trailer": TRAILER_NAME.CRC32,
      "content-length": String(wire.length),
    });
    check.push(wire);
    const result = check.end();
    expect(result.problem).toBeUndefined();
    expect(result).toMatchObject({ bytes: data.length, declaredLength: data.length, verified: ["CRC32"] });
  });

  it("sends no trailer when the download ends short (the tap fails; the body is only destroyed)", async () => {
    const tap = new PartTap(1000, "CRC32");
    const body = new AwsChunkedBody(tap, "CRC32");
    const seen: Buffer[] = [];
    body.on("data", (c: Buffer) => seen.push(c));
    tap.on("error", () => {});
    const closed = new Promise((r) => body.once("close", r));
    tap.end(Buffer.alloc(999));
    await closed;
    expect(Buffer.concat(seen).toString("latin1")).not.toContain(TRAILER_NAME.CRC32);
    expect(body.destroyed).toBe(true);
  });
});

describe("uploadPartChunked", () => {
  it("sends the framed body as is: our trailer, an exact Content-Length, no second checksum from the SDK", async () => {
    const data = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) % 256));
    const crc = crcToBase64("CRC32", crcOf("CRC32", data));
    let seen: { headers: Record<string, string>; wire: Buffer } | undefined;
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:1",
      forcePathStyle: true,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      requestHandler: {
        handle: async (request: { headers: Record<string, string>; body: Readable }) => {
          seen = { headers: request.headers, wire: await collect(request.body) };
          return {
            response: {
              statusCode: 200,
              headers: { etag: '"e"', "x-amz-checksum-crc32": crc },
              body: Readable.from([]),
            },
          };
        },
      },
    });
    const tap = new PartTap(data.length, "CRC32");
    const body = new AwsChunkedBody(tap, "CRC32");
    tap.end(data);
    const target = { s3, bucket: "b", key: "k", algorithm: "CRC32" as const };
    const res = await uploadPartChunked(target, { uploadId: "u", partNumber: 1, body, length: data.length });
    expect(res).toEqual({ etag: '"e"', checksum: crc });
    const headers = Object.fromEntries(
      Object.entries(seen?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(headers["x-amz-checksum-crc32"]).toBeUndefined();
    expect(headers).toMatchObject({
      "content-encoding": "aws-chunked",
      "content-length": String(body.encodedLength),
      "x-amz-decoded-content-length": String(data.length),
      "x-amz-trailer": "x-amz-checksum-crc32",
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    });
    expect(headers["transfer-encoding"]).toBeUndefined();
    const wire = seen?.wire as Buffer;
    expect(wire.length).toBe(body.encodedLength);
    const { payload, trailers, frames } = decode(wire);
    expect(payload.equals(data)).toBe(true);
    expect(frames).toEqual([1048576, 1048576, 1048576, 17]);
    expect([...trailers]).toEqual([["x-amz-checksum-crc32", crc]]);
    s3.destroy();
  });
});
