/**
 * A minimal S3 that discards bytes: just enough of CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload and PutObject for the engine, so a measurement sees the engine's own cost and memory
 * (fauxqs keeps every part in memory and would dominate both). Run standalone: prints its URL on stdout.
 * SINK_LATENCY_MS delays every answer (an S3 round trip).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const latencyMs = Number(process.env.SINK_LATENCY_MS ?? 0);
let uploads = 0;
let bytes = 0;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://sink");
  const [, bucket = "", ...rest] = url.pathname.split("/");
  const key = decodeURIComponent(rest.join("/"));
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    received += chunk.length;
  });
  req.on("end", () => {
    bytes += received;
    setTimeout(() => {
      const xml = (body: string) => {
        res.writeHead(200, { "content-type": "application/xml" });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
      };
      if (req.method === "POST" && url.searchParams.has("uploads")) {
        xml(
          `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>u${++uploads}</UploadId></InitiateMultipartUploadResult>`,
        );
      } else if (req.method === "POST" && url.searchParams.has("uploadId")) {
        xml(
          `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"done"</ETag></CompleteMultipartUploadResult>`,
        );
      } else if (req.method === "PUT") {
        res.writeHead(200, { etag: `"p${url.searchParams.get("partNumber") ?? "0"}"` });
        res.end();
      } else if (req.method === "DELETE") {
        res.writeHead(204).end();
      } else if (req.method === "GET" && url.pathname === "/__bytes") {
        res.end(String(bytes));
      } else {
        res.writeHead(400).end();
      }
    }, latencyMs);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.SINK_PORT ?? 0), "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
