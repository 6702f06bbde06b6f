/**
 * One ranged GET on a signed download URL, checked before a byte is trusted: status 206, the exact
 * `Content-Range: bytes a-b/size`, and (while streaming) the exact byte count. The body comes out of a
 * PartTap that computes the part's CRC on the way, so bytes are read once.
 */
import { Transform, type TransformCallback } from "node:stream";
import { type Dispatcher, request } from "undici";
import { type ChecksumAlgorithm, createCrc, type RunningCrc } from "./checksum.js";
import { describe } from "./errors.js";
import { redactUrl } from "./hosts.js";

/**
 * Why a fetch failed, as the caller must react:
 * - expired: 403 (signed URL expired or refused) → fresh download info, then retry;
 * - rangeIgnored: 200 to a ranged request → the server ignores Range, switch to one streamed GET;
 * - sizeMismatch: the file host's size differs from the expected size → fail, the file changed;
 * - fatal: any other refusal (404, 416, a redirect...) → fail;
 * - retryable: network error, 5xx, 429, truncated or stalled body → fetch the range again.
 */
export type FetchProblemKind = "expired" | "rangeIgnored" | "sizeMismatch" | "fatal" | "retryable";

export class FetchProblem extends Error {
  readonly kind: FetchProblemKind;
  readonly status: number | undefined;
  constructor(kind: FetchProblemKind, message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "FetchProblem";
    this.kind = kind;
    this.status = status;
  }
}

/**
 * Counts and checksums the bytes of one range as they pass, and fails the stream on a wrong count:
 * more bytes than expected as soon as they arrive, fewer at the end (a clean but short response).
 */
export class PartTap extends Transform {
  readonly expected: number;
  bytes = 0;
  /** The first download-side failure, so a caller whose S3 upload failed can tell whose fault it was. */
  failure: Error | undefined;
  private readonly crc: RunningCrc;
  private readonly onBytes: ((n: number) => void) | undefined;

  constructor(expected: number, algorithm: ChecksumAlgorithm, onBytes?: (n: number) => void) {
    super();
    this.expected = expected;
    this.crc = createCrc(algorithm);
    this.onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected) {
      done(this.fail(new FetchProblem("retryable", `body longer than the ${this.expected} bytes expected`)));
      return;
    }
    this.crc.update(chunk);
    this.onBytes?.(chunk.length);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes !== this.expected) {
      done(
        this.fail(new FetchProblem("retryable", `body truncated: ${this.bytes} of ${this.expected} bytes`)),
      );
      return;
    }
    done();
  }

  fail(err: Error): Error {
    this.failure ??= err;
    return err;
  }

  /** The CRC of the bytes so far; meaningful once the stream ended with `bytes === expected`. */
  crcValue(): bigint {
    return this.crc.value();
  }
}

export interface RangeRequest {
  url: URL;
  /** Headers from the download info, sent unchanged. */
  headers: Readonly<Record<string, string>>;
  /** Inclusive byte range; null = the whole file without a Range header (only for 0-byte files and the fallback). */
  range: { start: number; end: number } | null;
  /** DingTalk's size of the whole file. */
  size: number;
  algorithm: ChecksumAlgorithm;
  dispatcher: Dispatcher;
  signal?: AbortSignal | undefined;
  /** Max wait for response headers, and max silence between body chunks (a stalled body), in ms. */
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  onBytes?: ((n: number) => void) | undefined;
}

/** Headers we set ourselves; a same-named header from the download info would be a duplicate. */
const OURS = new Set(["range", "accept-encoding"]);

/** Open the range; resolves once the status and headers are checked, with the body flowing through a PartTap. */
export async function openRange(req: RangeRequest): Promise<PartTap> {
  const where = redactUrl(req.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!OURS.has(name.toLowerCase())) headers[name] = value;
  }
  headers["accept-encoding"] = "identity";
  if (req.range) headers.range = `bytes=${req.range.start}-${req.range.end}`;
  const expected = req.range ? req.range.end - req.range.start + 1 : req.size;

  let res: Dispatcher.ResponseData;
  try {
    res = await request(req.url, {
      method: "GET",
      headers,
      dispatcher: req.dispatcher,
      signal: req.signal,
      headersTimeout: req.headersTimeoutMs,
      bodyTimeout: req.idleTimeoutMs,
    });
  } catch (err) {
    if (req.signal?.aborted) throw err;
    throw new FetchProblem("retryable", `GET ${where} failed: ${describe(err)}`, undefined, err);
  }

  const { statusCode: status } = res;
  const header = (name: string): string | undefined => {
    const v = res.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const refuse = (problem: FetchProblem): never => {
    // Do not read a body we will not use (it may be a whole file). Destroying it makes undici emit an
    // abort error, expected here, so swallow it.
    res.body.on("error", () => {});
    res.body.destroy();
    throw problem;
  };

  if (status === 206 && req.range) {
    const want = `bytes ${req.range.start}-${req.range.end}/${req.size}`;
    const got = header("content-range");
    if (got !== want) {
      const total = got?.match(/\/(\d+)$/)?.[1];
      if (total !== undefined && Number(total) !== req.size) {
        refuse(
          new FetchProblem("sizeMismatch", `${where} reports ${total} bytes, expected ${req.size}`, status),
        );
      }
      refuse(
        new FetchProblem("retryable", `${where} answered Content-Range "${got}", expected "${want}"`, status),
      );
    }
  } else if (status === 200) {
    // A 200 carries the whole file. Fine when we wanted the whole file anyway; otherwise the server ignored Range.
    const wholeFile = req.range === null || (req.range.start === 0 && req.range.end === req.size - 1);
    if (!wholeFile)
      refuse(new FetchProblem("rangeIgnored", `${where} ignored the Range header (200)`, status));
    const length = header("content-length");
    if (length !== undefined && Number(length) !== req.size) {
      refuse(
        new FetchProblem("sizeMismatch", `${where} sends ${length} bytes, expected ${req.size}`, status),
      );
    }
  } else if (status === 403) {
    refuse(new FetchProblem("expired", `${where} answered 403 (signed URL expired or refused)`, status));
  } else if (status === 408 || status === 429 || status >= 500) {
    refuse(new FetchProblem("retryable", `${where} answered ${status}`, status));
  } else if (status === 416) {
    refuse(new FetchProblem("sizeMismatch", `${where} answered 416: the range is outside the file`, status));
  } else {
    refuse(new FetchProblem("fatal", `${where} answered ${status}`, status));
  }

  const length = header("content-length");
  if (status === 206 && length !== undefined && Number(length) !== expected) {
    refuse(new FetchProblem("retryable", `${where} declares ${length} bytes, expected ${expected}`, status));
  }

  const tap = new PartTap(expected, req.algorithm, req.onBytes);
  // Errors of the socket (reset, BodyTimeoutError on a stall) end the tap with a retryable problem.
  res.body.on("error", (err: Error) => {
    if (tap.destroyed) return; // we destroyed the body ourselves after the tap closed
    tap.destroy(
      tap.fail(new FetchProblem("retryable", `reading ${where} failed: ${describe(err)}`, status, err)),
    );
  });
  tap.on("close", () => {
    if (!res.body.destroyed && !res.body.readableEnded) res.body.destroy();
  });
  res.body.pipe(tap);
  return tap;
}

/** Read a tap fully into `target` (at least tap.expected bytes long); resolves with the filled view. */
export async function readInto(tap: PartTap, target: Buffer): Promise<Buffer> {
  let offset = 0;
  for await (const chunk of tap as AsyncIterable<Buffer>) {
    chunk.copy(target, offset);
    offset += chunk.length;
  }
  return target.subarray(0, offset);
}
