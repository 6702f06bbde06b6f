/**
 * A part's body in S3's `aws-chunked` encoding with the trailing checksum the engine computed itself.
 *
 * The SDK, given a stream, wraps it in its own aws-chunked stream and pipes it through a second CRC pass for
 * the trailer (plus one framing write per 64 KiB socket read, inside HTTP chunked encoding). The PartTap has
 * already computed that very CRC over the same bytes on their way through, so this body frames them itself
 * (1 MiB aws-chunks, split without copying), ends with the tap's CRC as the trailer, and has a length known
 * in advance: the request goes with a Content-Length (no HTTP chunked framing on top). S3 still checks the
 * trailer against the bytes it received, and answers its own CRC of the part, which the engine compares.
 *
 * Profile of a 1 GiB engine run before (node --cpu-prof): the SDK's CRC pass and its hash stream were ~8 % of
 * the process's CPU, socket writes of the doubly framed small chunks ~13 %.
 */
import { type Readable, Transform, type TransformCallback } from "node:stream";
import type { ChecksumAlgorithm } from "./checksum.js";
import { crcToBase64 } from "./checksum.js";
import type { PartTap } from "./range-fetch.js";

/** Payload bytes per aws-chunk (S3 wants ≥ 8 KiB for all but the last). */
export const AWS_CHUNK_SIZE = 1024 * 1024;

/** The trailer header for each algorithm, as S3 names it. */
export const TRAILER_NAME: Record<ChecksumAlgorithm, string> = {
  CRC32: "x-amz-checksum-crc32",
  CRC64NVME: "x-amz-checksum-crc64nvme",
};

const BASE64_LENGTH: Record<ChecksumAlgorithm, number> = { CRC32: 8, CRC64NVME: 12 };

/** Bytes on the wire for `length` payload bytes framed in `chunk`-sized aws-chunks plus the trailer. */
export function awsChunkedLength(
  length: number,
  algorithm: ChecksumAlgorithm,
  chunk = AWS_CHUNK_SIZE,
): number {
  let total = 0;
  for (let left = length; left > 0; left -= chunk) {
    const size = Math.min(chunk, left);
    total += size.toString(16).length + 2 + size + 2;
  }
  // "0\r\n", "<name>:<base64>\r\n", "\r\n"
  return total + 3 + TRAILER_NAME[algorithm].length + 1 + BASE64_LENGTH[algorithm] + 2 + 2;
}

/**
 * Frames what comes out of `tap`. Like the stream it replaces, it never errors (the SDK would re-emit the error
 * where nothing listens): on a download failure it is only destroyed, and the caller aborts the request.
 */
export class AwsChunkedBody extends Transform {
  readonly encodedLength: number;
  private left: number;
  /** Payload bytes still to come in the current aws-chunk (0 = a size line is due). */
  private inChunk = 0;

  constructor(
    private readonly tap: PartTap,
    private readonly algorithm: ChecksumAlgorithm,
    private readonly chunk = AWS_CHUNK_SIZE,
  ) {
    super();
    this.left = tap.expected;
    this.encodedLength = awsChunkedLength(tap.expected, algorithm, chunk);
    tap.once("error", () => this.destroy());
    tap.pipe(this);
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let offset = 0;
    while (offset < data.length) {
      if (this.inChunk === 0) {
        this.inChunk = Math.min(this.chunk, this.left);
        if (this.inChunk === 0) {
          // More bytes than expected: the tap fails the download; send nothing more.
          this.destroy();
          done();
          return;
        }
        this.push(`${this.inChunk.toString(16)}\r\n`);
      }
      const n = Math.min(this.inChunk, data.length - offset);
      this.push(offset === 0 && n === data.length ? data : data.subarray(offset, offset + n));
      offset += n;
      this.inChunk -= n;
      this.left -= n;
      if (this.inChunk === 0) this.push("\r\n");
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    // The tap ended cleanly only with exactly the expected bytes; its CRC is then final.
    if (this.left !== 0 || this.tap.bytes !== this.tap.expected) {
      this.destroy();
      done();
      return;
    }
    const checksum = crcToBase64(this.algorithm, this.tap.crcValue());
    done(null, `0\r\n${TRAILER_NAME[this.algorithm]}:${checksum}\r\n\r\n`);
  }
}

export function awsChunkedBody(tap: PartTap, algorithm: ChecksumAlgorithm): AwsChunkedBody & Readable {
  return new AwsChunkedBody(tap, algorithm);
}
