/**
 * What the S3 sink does with a request body instead of storing it: count the payload bytes, decode
 * `aws-chunked` framing (the SDK's streaming uploads with a trailing checksum), and compute every checksum
 * the client declared (headers or trailer) so that it can be compared, as S3 compares it. A CRC32 of the
 * payload is always kept, so that the sink can tell the whole object's CRC32 from its parts' CRC32s.
 */
import { createHash, type Hash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { crc32 as zlibCrc32 } from "node:zlib";
import { type ChecksumAlgorithm, crcToBase64, createCrc, type RunningCrc } from "../lib/transfer/checksum.js";

/** Checksums a client may declare for a body, by the header (or trailer) that carries them. */
const DECLARED = {
  "x-amz-checksum-crc32": "CRC32",
  "x-amz-checksum-crc64nvme": "CRC64NVME",
  "x-amz-checksum-sha256": "SHA256",
  "x-amz-checksum-sha1": "SHA1",
  "content-md5": "MD5",
} as const;
type DeclaredHeader = keyof typeof DECLARED;
type Algorithm = (typeof DECLARED)[DeclaredHeader];

/** A running digest of the payload, in the form S3 shows it (base64, or hex for x-amz-content-sha256). */
interface Digest {
  update(chunk: Buffer): void;
  result(): string;
}

function digestFor(algorithm: Algorithm): Digest {
  if (algorithm === "CRC32" || algorithm === "CRC64NVME") {
    const crc: RunningCrc = createCrc(algorithm as ChecksumAlgorithm);
    return { update: (c) => crc.update(c), result: () => crcToBase64(algorithm, crc.value()) };
  }
  const hash: Hash = createHash(algorithm.toLowerCase());
  return { update: (c) => hash.update(c), result: () => hash.digest("base64") };
}

export interface BodyCheck {
  /** Payload bytes (after aws-chunked decoding). */
  bytes: number;
  /** The length the client declared: x-amz-decoded-content-length, else Content-Length. */
  declaredLength: number | undefined;
  /** CRC32 of the payload, whatever the client sent. */
  crc32: number;
  /** Algorithms the client declared and whose value matched. */
  verified: string[];
  /** The values of those checksums, as declared (header or trailer), by algorithm. */
  values: Record<string, string>;
  /** The first problem, in S3's words: an error code and a message. */
  problem: { code: string; message: string } | undefined;
}

/**
 * Feed a request's body through `push`, then call `end()`. Header checksums are known up front; a trailer
 * checksum (`x-amz-trailer`) is read after the last aws-chunked chunk.
 */
export class BodyChecker {
  private crc = 0;
  private bytes = 0;
  private readonly digests = new Map<Algorithm, Digest>();
  private readonly expected = new Map<Algorithm, string>();
  private readonly contentSha256: string | undefined;
  private sha256Hex: Hash | undefined;
  private readonly chunked: ChunkDecoder | undefined;
  private readonly trailerName: DeclaredHeader | undefined;
  readonly declaredLength: number | undefined;

  /** The payload itself, when asked to keep bodies of at most `keepUpTo` bytes (small objects, checkpoints). */
  private readonly kept: Buffer[] | undefined;

  constructor(headers: IncomingHttpHeaders, keepUpTo = 0) {
    const encoding = String(headers["content-encoding"] ?? "");
    const sha = String(headers["x-amz-content-sha256"] ?? "");
    const isChunked =
      encoding.split(",").some((e) => e.trim() === "aws-chunked") || sha.startsWith("STREAMING-");
    const lengthHeader = isChunked ? headers["x-amz-decoded-content-length"] : headers["content-length"];
    this.declaredLength = lengthHeader === undefined ? undefined : Number(lengthHeader);
    for (const [header, algorithm] of Object.entries(DECLARED) as [DeclaredHeader, Algorithm][]) {
      const value = headers[header];
      if (typeof value === "string" && value !== "") this.expect(algorithm, value);
    }
    const trailer = String(headers["x-amz-trailer"] ?? "").toLowerCase();
    if (trailer in DECLARED) {
      this.trailerName = trailer as DeclaredHeader;
      this.track(DECLARED[this.trailerName]);
    }
    // A signed payload's SHA-256 (hex) is a checksum too (aws-sdk-go v1 and rclone send it).
    if (/^[0-9a-f]{64}$/.test(sha)) {
      this.contentSha256 = sha;
      this.sha256Hex = createHash("sha256");
    }
    this.chunked = isChunked ? new ChunkDecoder((data) => this.payload(data)) : undefined;
    const length = this.declaredLength;
    this.kept = length !== undefined && length <= keepUpTo ? [] : undefined;
  }

  /** The payload, if it was kept (see the constructor). */
  body(): Buffer | undefined {
    return this.kept && Buffer.concat(this.kept);
  }

  push(chunk: Buffer): void {
    if (this.chunked) this.chunked.push(chunk);
    else this.payload(chunk);
  }

  end(): BodyCheck {
    let problem: BodyCheck["problem"];
    const fail = (code: string, message: string) => {
      problem ??= { code, message };
    };
    if (this.chunked) {
      const framing = this.chunked.end();
      if (framing) fail("IncompleteBody", framing);
      if (this.trailerName) {
        const value = this.chunked.trailers.get(this.trailerName);
        if (value) this.expected.set(DECLARED[this.trailerName], value);
        else fail("InvalidRequest", `the trailer ${this.trailerName} announced in x-amz-trailer is missing`);
      }
    }
    if (this.declaredLength !== undefined && this.bytes !== this.declaredLength) {
      fail("IncompleteBody", `declared ${this.declaredLength} bytes, received ${this.bytes}`);
    }
    const verified: string[] = [];
    const values: Record<string, string> = {};
    for (const [algorithm, want] of this.expected) {
      // CRC32 is always computed (it makes the object's CRC32), so it has no separate digest.
      const got =
        algorithm === "CRC32"
          ? crcToBase64("CRC32", BigInt(this.crc >>> 0))
          : this.digests.get(algorithm)?.result();
      if (got === want) {
        verified.push(algorithm);
        values[algorithm] = want;
      } else fail("BadDigest", `${algorithm} ${want} declared, ${got} computed`);
    }
    if (this.contentSha256 && this.sha256Hex) {
      const got = this.sha256Hex.digest("hex");
      if (got === this.contentSha256) verified.push("x-amz-content-sha256");
      else fail("XAmzContentSHA256Mismatch", `x-amz-content-sha256 ${this.contentSha256}, computed ${got}`);
    }
    return {
      bytes: this.bytes,
      declaredLength: this.declaredLength,
      crc32: this.crc >>> 0,
      verified,
      values,
      problem,
    };
  }

  private expect(algorithm: Algorithm, value: string): void {
    this.expected.set(algorithm, value);
    this.track(algorithm);
  }

  private track(algorithm: Algorithm): void {
    if (algorithm !== "CRC32" && !this.digests.has(algorithm))
      this.digests.set(algorithm, digestFor(algorithm));
  }

  private payload(data: Buffer): void {
    this.bytes += data.length;
    this.crc = zlibCrc32(data, this.crc);
    for (const digest of this.digests.values()) digest.update(data);
    this.sha256Hex?.update(data);
    if (this.kept) this.kept.push(Buffer.from(data));
  }
}

/**
 * Decoder of the `aws-chunked` content encoding: `<hex size>[;chunk-signature=...]\r\n<data>\r\n` repeated,
 * then a `0` chunk, trailer lines `name:value\r\n`, and an empty line.
 */
class ChunkDecoder {
  readonly trailers = new Map<string, string>();
  private line = "";
  private remaining = 0;
  private state: "size" | "data" | "dataEnd" | "trailers" | "done" = "size";
  private error: string | undefined;

  constructor(private readonly onData: (data: Buffer) => void) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.error) {
      if (this.state === "data") {
        const n = Math.min(this.remaining, chunk.length - at);
        this.onData(chunk.subarray(at, at + n));
        at += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = "dataEnd";
        continue;
      }
      if (this.state === "done") {
        this.error = "bytes after the end of the aws-chunked body";
        return;
      }
      // Header, chunk end and trailer lines are short: collect them up to their \n.
      const nl = chunk.indexOf(10, at);
      const end = nl === -1 ? chunk.length : nl + 1;
      this.line += chunk.toString("latin1", at, end);
      at = end;
      if (this.line.length > 4096) this.error = "an aws-chunked line longer than 4 KiB";
      if (nl === -1) continue;
      const line = this.line.replace(/\r?\n$/, "");
      this.line = "";
      this.onLine(line);
    }
  }

  /** undefined when the body was complete and well formed, else what was wrong. */
  end(): string | undefined {
    if (this.error) return this.error;
    return this.state === "done" ? undefined : `aws-chunked body ended early (${this.state})`;
  }

  private onLine(line: string): void {
    switch (this.state) {
      case "size": {
        const size = Number.parseInt(line.split(";")[0] ?? "", 16);
        if (!Number.isSafeInteger(size) || size < 0) {
          this.error = `bad aws-chunked size line ${JSON.stringify(line.slice(0, 40))}`;
        } else if (size === 0) {
          this.state = "trailers";
        } else {
          this.remaining = size;
          this.state = "data";
        }
        return;
      }
      case "dataEnd":
        if (line !== "") this.error = "an aws-chunked chunk longer than its size";
        this.state = "size";
        return;
      case "trailers": {
        if (line === "") {
          this.state = "done";
          return;
        }
        const colon = line.indexOf(":");
        if (colon > 0)
          this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        return;
      }
      default:
        return;
    }
  }
}
