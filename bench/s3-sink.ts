/**
 * A minimal S3 that checks and then discards bytes: CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload, PutObject, HeadObject, GetObject (small objects only) and
 * DeleteObject, path-style, with no authentication. Used by the benchmark (fauxqs keeps every part in
 * memory and tops out near 100 MiB/s, so it would dominate both time and memory) and by tests for S3
 * misbehaviour fauxqs cannot produce (a part body S3 stops reading, refused parts, a part stored with other bytes
 * than the client checksummed, a Complete refused or applied with its answer lost).
 *
 * As S3 does, it refuses a body whose length differs from the declared one (IncompleteBody), a checksum the
 * bytes do not match (BadDigest: x-amz-checksum-* headers or aws-chunked trailers, Content-MD5,
 * x-amz-content-sha256), a non-last part under 5 MiB, parts out of order or unknown, and a full-object
 * checksum or MpuObjectSize that differs from the parts'. It keeps, per object, only its size, its CRC32
 * (combined from the parts' CRC32s, whatever checksum the client used) and what was verified — readable at
 * `GET /__sink/objects?bucket=B&key=K` — and the bytes of objects up to 1 MiB (checkpoints), or of every object
 * with `keepObjects` (tests read them back).
 *
 * Standalone (`node --import tsx bench/s3-sink.ts`): prints its URL; SINK_LATENCY_MS delays every answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { combineParts, crcFromBase64, crcOf, crcToBase64 } from "../lib/transfer/checksum.js";
import { type BodyCheck, BodyChecker } from "./sink-body.js";

export interface SinkOptions {
  latencyMs?: number;
  /** Stop reading the body of this many UploadPart requests (socket left open): S3 stalling. */
  stallParts?: number;
  /** Answer this many UploadPart requests (after reading them) with `failStatus` / `failCode`. */
  failParts?: number;
  failStatus?: number;
  failCode?: string;
  /** Answer CompleteMultipartUpload with this error code (400), as S3 does when the full checksum differs. */
  failCompleteCode?: string;
  /**
   * Answer CompleteMultipartUpload with this full-object CRC32 instead of the real one. By default a
   * FULL_OBJECT CRC32 upload is answered with the CRC32 of the bytes received, as real S3 does.
   */
  completeCrc32?: string;
  /** Keep the bytes of every object, multipart ones too, so GetObject returns them (tests read objects back). */
  keepObjects?: boolean;
  /**
   * Store this many UploadParts with one byte changed, answering the checksum of the changed bytes: what S3
   * shows when bytes changed before the client computed its checksum. The client's own part CRC then differs.
   */
  corruptParts?: number;
  /** Answer this many DeleteObject requests 500 InternalError without deleting. */
  failDeletes?: number;
  /** Answer this many CompleteMultipartUpload requests 500 InternalError without applying them. */
  failCompletes?: number;
  /** Apply this many CompleteMultipartUpload requests but answer 500 InternalError: the answer was lost. */
  loseCompleteAnswers?: number;
}

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;
/** Objects (PutObject bodies) at most this big keep their bytes, so GetObject can return them. */
const KEEP_BYTES = MiB;

/** What the sink remembers of a completed object. */
export interface SinkObject {
  bucket: string;
  key: string;
  size: number;
  /** CRC32 of all the bytes received for it, base64 (as S3 shows checksums). */
  crc32: string;
  /** 0 for a PutObject. */
  parts: number;
  /** Parts (or the PutObject body) whose declared checksum was verified, and those that declared none. */
  verifiedParts: number;
  unverifiedParts: number;
  /** The checksums clients declared and the sink verified, e.g. ["CRC32"], ["x-amz-content-sha256"]. */
  checksums: string[];
  /** The full-object checksum the client declared on CompleteMultipartUpload and the sink verified. */
  fullObjectChecksum: string | undefined;
  /** Its value, base64, as HeadObject shows it with ChecksumMode ENABLED. */
  fullObjectValue: string | undefined;
  contentType: string | undefined;
  metadata: Record<string, string>;
  etag: string;
}

export interface SinkStats {
  /** Payload bytes received in UploadPart and PutObject bodies (accepted or not). */
  bytes: number;
  parts: number;
  stalled: number;
  completes: number;
  aborts: number;
  deletes: number;
  puts: number;
  /** Requests refused for a wrong length, checksum or part list; the first few reasons in `problems`. */
  refused: number;
  problems: string[];
}

export interface Sink {
  url: string;
  server: Server;
  stats: SinkStats;
  object(bucket: string, key: string): SinkObject | undefined;
  /** Multipart uploads neither completed nor aborted. */
  openUploads(): number;
  /** Forget every object (uploads in progress stay). */
  forget(): void;
  close(): Promise<void>;
}

interface Part {
  size: number;
  crc32: number;
  etag: string;
  /** Checksums the client declared for the part (verified), by algorithm. */
  declared: Map<string, string>;
  verified: string[];
  /** The part's bytes, with keepObjects or when corrupted. */
  data: Buffer | undefined;
}

interface Upload {
  bucket: string;
  key: string;
  algorithm: string | undefined;
  checksumType: string | undefined;
  contentType: string | undefined;
  metadata: Record<string, string>;
  parts: Map<number, Part>;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const latencyMs = options.latencyMs ?? 0;
  let stallParts = options.stallParts ?? 0;
  let failParts = options.failParts ?? 0;
  let corruptParts = options.corruptParts ?? 0;
  let failCompletes = options.failCompletes ?? 0;
  let loseCompleteAnswers = options.loseCompleteAnswers ?? 0;
  let failDeletes = options.failDeletes ?? 0;
  const keepParts = options.keepObjects || corruptParts > 0;
  let uploadCounter = 0;
  const uploads = new Map<string, Upload>();
  const objects = new Map<string, SinkObject & { body: Buffer | undefined }>();
  const stats: SinkStats = {
    bytes: 0,
    parts: 0,
    stalled: 0,
    completes: 0,
    aborts: 0,
    deletes: 0,
    puts: 0,
    refused: 0,
    problems: [],
  };
  const id = (bucket: string, key: string) => `${bucket}/${key}`;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sink");
    if (url.pathname.startsWith("/__sink/")) return admin(req, res, url);
    const [, bucket = "", ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const q = url.searchParams;
    const isPart = req.method === "PUT" && q.has("partNumber") && q.has("uploadId");
    if (isPart && stallParts > 0) {
      stallParts--;
      stats.stalled++;
      req.once("data", () => req.pause()); // take one chunk, then never read again
      return;
    }
    const keepUpTo = isPart
      ? keepParts
        ? MAX_PART
        : 0
      : req.method === "PUT"
        ? options.keepObjects
          ? MAX_PART
          : KEEP_BYTES
        : req.method === "POST"
          ? MiB
          : 0;
    const checker = new BodyChecker(req.headers, keepUpTo);
    req.on("data", (chunk: Buffer) => checker.push(chunk));
    req.on("end", () => {
      const body = checker.end();
      if (req.method === "PUT") stats.bytes += body.bytes;
      setTimeout(() => {
        try {
          answer(req, res, { bucket, key, q, isPart, body, raw: checker.body() });
        } catch (err) {
          if (!(err instanceof Refusal)) throw err;
          stats.refused++;
          if (stats.problems.length < 20) stats.problems.push(`${err.code}: ${err.message}`);
          sendError(res, err.status, err.code, err.message);
        }
      }, latencyMs);
    });
  });

  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    r: {
      bucket: string;
      key: string;
      q: URLSearchParams;
      isPart: boolean;
      body: BodyCheck;
      raw: Buffer | undefined;
    },
  ): void {
    const { bucket, key, q, body } = r;
    const method = req.method;
    if (method === "POST" && q.has("uploads")) {
      const uploadId = `u${++uploadCounter}`;
      uploads.set(uploadId, {
        bucket,
        key,
        algorithm: header(req, "x-amz-checksum-algorithm")?.toUpperCase(),
        checksumType: header(req, "x-amz-checksum-type")?.toUpperCase(),
        contentType: header(req, "content-type"),
        metadata: metadataOf(req),
        parts: new Map(),
      });
      xml(
        res,
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      );
      return;
    }
    if (r.isPart) {
      if (failParts > 0) {
        failParts--;
        const code = options.failCode ?? "InternalError";
        sendError(res, options.failStatus ?? 500, code, code);
        return;
      }
      const upload = uploadOf(q, bucket, key);
      const partNumber = Number(q.get("partNumber"));
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
        throw new Refusal(400, "InvalidArgument", `partNumber ${q.get("partNumber")} is not in 1..10000`);
      }
      checkBody(body);
      if (body.bytes > MAX_PART) throw new Refusal(400, "EntityTooLarge", `part of ${body.bytes} bytes`);
      let declared = declaredChecksums(body);
      let data = r.raw;
      let crc32 = body.crc32;
      if (corruptParts > 0 && data) {
        corruptParts--;
        data = Buffer.from(data);
        data[data.length >> 1] = (data[data.length >> 1] as number) ^ 0x01;
        crc32 = Number(crcOf("CRC32", data));
        const changed = data;
        declared = new Map(
          [...declared].flatMap(
            ([algorithm]): Array<[string, string]> =>
              algorithm === "CRC32" || algorithm === "CRC64NVME"
                ? [[algorithm, crcToBase64(algorithm, crcOf(algorithm, changed))]]
                : [],
          ),
        );
      }
      const etag = `"${q.get("uploadId")}-${partNumber}-${crc32.toString(16)}"`;
      upload.parts.set(partNumber, {
        size: body.bytes,
        crc32,
        etag,
        declared,
        verified: body.verified,
        data: options.keepObjects ? data : undefined,
      });
      stats.parts++;
      res.writeHead(200, { etag, ...checksumHeaders(declared) });
      res.end();
      return;
    }
    if (method === "POST" && q.has("uploadId")) {
      if (options.failCompleteCode) {
        sendError(res, 400, options.failCompleteCode, "checksum");
        return;
      }
      if (failCompletes > 0) {
        failCompletes--;
        sendError(res, 500, "InternalError", "CompleteMultipartUpload not applied");
        return;
      }
      const answer = complete(req, uploadOf(q, bucket, key), q.get("uploadId") as string, r.raw);
      if (loseCompleteAnswers > 0) {
        loseCompleteAnswers--;
        sendError(
          res,
          500,
          "InternalError",
          "CompleteMultipartUpload applied, this answer stands for a lost one",
        );
        return;
      }
      xml(res, answer);
      return;
    }
    if (method === "DELETE" && q.has("uploadId")) {
      uploads.delete(q.get("uploadId") as string);
      stats.aborts++;
      res.writeHead(204).end();
      return;
    }
    if (method === "PUT") {
      if (req.headers["x-amz-copy-source"]) throw new Refusal(501, "NotImplemented", "CopyObject");
      checkBody(body);
      const declared = declaredChecksums(body);
      const crc32 = crcToBase64("CRC32", BigInt(body.crc32));
      const etag = `"put-${++uploadCounter}-${body.crc32.toString(16)}"`;
      objects.set(id(bucket, key), {
        bucket,
        key,
        size: body.bytes,
        crc32,
        parts: 0,
        verifiedParts: body.verified.length > 0 ? 1 : 0,
        unverifiedParts: body.verified.length > 0 ? 0 : 1,
        checksums: body.verified,
        fullObjectChecksum: undefined,
        fullObjectValue: undefined,
        contentType: header(req, "content-type"),
        metadata: metadataOf(req),
        etag,
        body: r.raw,
      });
      stats.puts++;
      res.writeHead(200, { etag, ...checksumHeaders(declared), "x-amz-checksum-type": "FULL_OBJECT" });
      res.end();
      return;
    }
    const object = objects.get(id(bucket, key));
    if (method === "HEAD" || method === "GET") {
      if (!object) {
        if (method === "HEAD") {
          res.writeHead(404).end();
          return;
        }
        throw new Refusal(404, "NoSuchKey", "The specified key does not exist.");
      }
      if (method === "GET" && !object.body) {
        throw new Refusal(501, "NotImplemented", "this sink discarded the bytes of objects over 1 MiB");
      }
      const headers: Record<string, string | number> = {
        "content-length": object.size,
        etag: object.etag,
        "content-type": object.contentType ?? "binary/octet-stream",
        "last-modified": new Date().toUTCString(),
      };
      for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
      if (
        header(req, "x-amz-checksum-mode")?.toUpperCase() === "ENABLED" &&
        object.fullObjectChecksum &&
        object.fullObjectValue
      ) {
        headers[`x-amz-checksum-${object.fullObjectChecksum.toLowerCase()}`] = object.fullObjectValue;
        headers["x-amz-checksum-type"] = "FULL_OBJECT";
      }
      res.writeHead(200, headers);
      res.end(method === "GET" ? object.body : undefined);
      return;
    }
    if (method === "DELETE") {
      if (failDeletes > 0) {
        failDeletes--;
        throw new Refusal(500, "InternalError", "DeleteObject not applied");
      }
      objects.delete(id(bucket, key));
      stats.deletes++;
      res.writeHead(204).end();
      return;
    }
    throw new Refusal(501, "NotImplemented", `${method} ${req.url} is not implemented by this sink`);
  }

  /** Applies the Complete; returns the answer's XML. */
  function complete(req: IncomingMessage, upload: Upload, uploadId: string, raw: Buffer | undefined): string {
    const listed = [...(raw?.toString("utf8") ?? "").matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => {
      const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(m[1] ?? "")?.[1];
      return {
        partNumber: Number(field("PartNumber")),
        etag: unescapeXml(field("ETag") ?? ""),
        crc32: field("ChecksumCRC32"),
        crc64: field("ChecksumCRC64NVME"),
      };
    });
    if (listed.length === 0) throw new Refusal(400, "MalformedXML", "no parts listed");
    const parts: Part[] = [];
    let previous = 0;
    for (const [i, p] of listed.entries()) {
      if (p.partNumber <= previous)
        throw new Refusal(400, "InvalidPartOrder", `part ${p.partNumber} after ${previous}`);
      previous = p.partNumber;
      const part = upload.parts.get(p.partNumber);
      if (!part || unquote(part.etag) !== unquote(p.etag)) {
        throw new Refusal(400, "InvalidPart", `part ${p.partNumber} was not uploaded with ETag ${p.etag}`);
      }
      if (i < listed.length - 1 && part.size < MIN_PART) {
        throw new Refusal(400, "EntityTooSmall", `part ${p.partNumber} has ${part.size} bytes, under 5 MiB`);
      }
      if (p.crc32 && p.crc32 !== crcToBase64("CRC32", BigInt(part.crc32))) {
        throw new Refusal(
          400,
          "InvalidPart",
          `part ${p.partNumber}: ChecksumCRC32 ${p.crc32} is not its CRC32`,
        );
      }
      if (p.crc64 && part.declared.get("CRC64NVME") !== p.crc64) {
        throw new Refusal(400, "InvalidPart", `part ${p.partNumber}: ChecksumCRC64NVME ${p.crc64} differs`);
      }
      parts.push(part);
    }
    const size = parts.reduce((n, p) => n + p.size, 0);
    const declaredSize = header(req, "x-amz-mp-object-size");
    if (declaredSize !== undefined && Number(declaredSize) !== size) {
      throw new Refusal(
        400,
        "InvalidRequest",
        `MpuObjectSize ${declaredSize}, but the parts hold ${size} bytes`,
      );
    }
    const crc32 = crcToBase64(
      "CRC32",
      combineParts(
        "CRC32",
        parts.map((p) => ({ crc: BigInt(p.crc32), length: p.size })),
      ),
    );
    const type = (header(req, "x-amz-checksum-type") ?? upload.checksumType)?.toUpperCase();
    const full = type === "FULL_OBJECT" ? fullChecksum(req, parts, crc32) : undefined;
    uploads.delete(uploadId);
    const etag = `"${uploadId}-${crc32}-${parts.length}"`;
    const verifiedParts = parts.filter((p) => p.verified.length > 0).length;
    objects.set(id(upload.bucket, upload.key), {
      bucket: upload.bucket,
      key: upload.key,
      size,
      crc32,
      parts: parts.length,
      verifiedParts,
      unverifiedParts: parts.length - verifiedParts,
      checksums: [...new Set(parts.flatMap((p) => p.verified))],
      fullObjectChecksum: full?.algorithm,
      fullObjectValue: full?.value,
      contentType: upload.contentType,
      metadata: upload.metadata,
      etag,
      body: options.keepObjects ? Buffer.concat(parts.map((p) => p.data ?? Buffer.alloc(0))) : undefined,
    });
    stats.completes++;
    let checksum = "";
    if (options.completeCrc32) {
      checksum = `<ChecksumCRC32>${options.completeCrc32}</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType>`;
    } else if (full) {
      checksum = `<Checksum${full.algorithm}>${full.value}</Checksum${full.algorithm}><ChecksumType>FULL_OBJECT</ChecksumType>`;
    }
    return `<CompleteMultipartUploadResult><Bucket>${upload.bucket}</Bucket><Key>${escapeXml(upload.key)}</Key><ETag>${escapeXml(etag)}</ETag>${checksum}</CompleteMultipartUploadResult>`;
  }

  /** The full-object checksum of a FULL_OBJECT upload, checked against the one the client declared (if any). */
  function fullChecksum(
    req: IncomingMessage,
    parts: Part[],
    crc32: string,
  ): { algorithm: string; value: string } | undefined {
    const given32 = header(req, "x-amz-checksum-crc32");
    const given64 = header(req, "x-amz-checksum-crc64nvme");
    if (given64 !== undefined || parts.every((p) => p.declared.has("CRC64NVME"))) {
      if (!parts.every((p) => p.declared.has("CRC64NVME"))) {
        throw new Refusal(
          400,
          "InvalidRequest",
          "a CRC64NVME full-object checksum needs every part's CRC64NVME",
        );
      }
      const value = crcToBase64(
        "CRC64NVME",
        combineParts(
          "CRC64NVME",
          parts.map((p) => ({
            crc: crcFromBase64("CRC64NVME", p.declared.get("CRC64NVME") as string),
            length: p.size,
          })),
        ),
      );
      if (given64 !== undefined && given64 !== value) {
        throw new Refusal(
          400,
          "BadDigest",
          `full-object CRC64NVME ${given64} declared, the parts make ${value}`,
        );
      }
      return { algorithm: "CRC64NVME", value };
    }
    if (given32 !== undefined && given32 !== crc32) {
      throw new Refusal(400, "BadDigest", `full-object CRC32 ${given32} declared, the parts make ${crc32}`);
    }
    return { algorithm: "CRC32", value: crc32 };
  }

  function uploadOf(q: URLSearchParams, bucket: string, key: string): Upload {
    const upload = uploads.get(q.get("uploadId") ?? "");
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw new Refusal(404, "NoSuchUpload", "The specified upload does not exist.");
    }
    return upload;
  }

  function admin(req: IncomingMessage, res: ServerResponse, url: URL): void {
    req.resume();
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === "/__sink/objects" && req.method === "GET") {
      const object = objects.get(id(url.searchParams.get("bucket") ?? "", url.searchParams.get("key") ?? ""));
      if (!object) {
        json(404, { error: "no such object" });
        return;
      }
      const { body: _body, ...rest } = object;
      json(200, rest);
      return;
    }
    if (url.pathname === "/__sink/stats" && req.method === "GET") {
      json(200, { ...stats, openUploads: uploads.size, objects: objects.size });
      return;
    }
    if (url.pathname === "/__sink/forget" && req.method === "POST") {
      objects.clear();
      json(200, { forgotten: true });
      return;
    }
    json(404, { error: "unknown admin call" });
  }

  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    stats,
    object(bucket, key) {
      const object = objects.get(id(bucket, key));
      if (!object) return undefined;
      const { body: _body, ...rest } = object;
      return rest;
    },
    openUploads: () => uploads.size,
    forget: () => objects.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function checkBody(body: BodyCheck): void {
  if (body.declaredLength === undefined) {
    throw new Refusal(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  if (body.problem) throw new Refusal(400, body.problem.code, body.problem.message);
}

/** The checksums a client declared for a body (all verified by then), by algorithm, as S3 echoes them. */
function declaredChecksums(body: BodyCheck): Map<string, string> {
  return new Map(Object.entries(body.values));
}

function checksumHeaders(declared: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [algorithm, value] of declared) {
    if (
      algorithm === "CRC32" ||
      algorithm === "CRC64NVME" ||
      algorithm === "SHA256" ||
      algorithm === "SHA1"
    ) {
      out[`x-amz-checksum-${algorithm.toLowerCase()}`] = value;
    }
  }
  return out;
}

function metadataOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith("x-amz-meta-") && typeof value === "string") out[name.slice(11)] = value;
  }
  return out;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const unquote = (etag: string) => etag.replace(/^"|"$/g, "");

const ENTITIES: Record<string, string> = { quot: '"', apos: "'", amp: "&", lt: "<", gt: ">" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith("#x") || name.startsWith("#X"))
      return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number(name.slice(1)));
    return ENTITIES[name] ?? whole;
  });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xml(res: ServerResponse, body: string): void {
  res.writeHead(200, { "content-type": "application/xml" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`,
  );
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  const sink = await startSink({ latencyMs: Number(process.env.SINK_LATENCY_MS ?? 0) });
  console.log(sink.url);
}
