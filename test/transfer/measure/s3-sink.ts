/**
 * A minimal S3 that discards bytes: just enough of CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload and PutObject for the engine, so a measurement sees the engine's own cost and memory
 * (fauxqs keeps every part in memory and would dominate both). Also used by tests for S3 misbehaviour fauxqs
 * cannot produce (a part body S3 stops reading).
 * Standalone (`node --import tsx s3-sink.ts`): prints its URL; SINK_LATENCY_MS delays every answer.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

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
  /** Answer CompleteMultipartUpload with this full-object CRC32 (as real S3 does); default: none, as fauxqs. */
  completeCrc32?: string;
}

export interface Sink {
  url: string;
  server: Server;
  /** Body bytes received, per command name. */
  stats: {
    bytes: number;
    parts: number;
    stalled: number;
    completes: number;
    aborts: number;
    deletes: number;
  };
  close(): Promise<void>;
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const latencyMs = options.latencyMs ?? 0;
  let stallParts = options.stallParts ?? 0;
  let failParts = options.failParts ?? 0;
  let uploads = 0;
  const stats = { bytes: 0, parts: 0, stalled: 0, completes: 0, aborts: 0, deletes: 0 };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sink");
    const [, bucket = "", ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    if (req.method === "PUT" && url.searchParams.has("partNumber") && stallParts > 0) {
      stallParts--;
      stats.stalled++;
      req.once("data", () => req.pause()); // take one chunk, then never read again
      return;
    }
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    req.on("end", () => {
      stats.bytes += received;
      setTimeout(() => {
        const xml = (body: string) => {
          res.writeHead(200, { "content-type": "application/xml" });
          res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
        };
        if (req.method === "POST" && url.searchParams.has("uploads")) {
          xml(
            `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>u${++uploads}</UploadId></InitiateMultipartUploadResult>`,
          );
        } else if (req.method === "POST" && url.searchParams.has("uploadId") && options.failCompleteCode) {
          res.writeHead(400, { "content-type": "application/xml" });
          res.end(`<Error><Code>${options.failCompleteCode}</Code><Message>checksum</Message></Error>`);
        } else if (req.method === "POST" && url.searchParams.has("uploadId")) {
          stats.completes++;
          const checksum = options.completeCrc32
            ? `<ChecksumCRC32>${options.completeCrc32}</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType>`
            : "";
          xml(
            `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"done"</ETag>${checksum}</CompleteMultipartUploadResult>`,
          );
        } else if (req.method === "PUT" && url.searchParams.has("partNumber") && failParts > 0) {
          failParts--;
          const code = options.failCode ?? "InternalError";
          res.writeHead(options.failStatus ?? 500, { "content-type": "application/xml" });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code}</Message></Error>`,
          );
        } else if (req.method === "PUT") {
          if (url.searchParams.has("partNumber")) stats.parts++;
          res.writeHead(200, { etag: `"p${url.searchParams.get("partNumber") ?? "0"}"` });
          res.end();
        } else if (req.method === "DELETE") {
          if (url.searchParams.has("uploadId")) stats.aborts++;
          else stats.deletes++;
          res.writeHead(204).end();
        } else {
          res.writeHead(400).end();
        }
      }, latencyMs);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  const sink = await startSink({ latencyMs: Number(process.env.SINK_LATENCY_MS ?? 0) });
  console.log(sink.url);
}
