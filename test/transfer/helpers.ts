import { createServer, request } from "node:http";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import type { DownloadSource, SignedDownload } from "../../lib/transfer/index.js";
import { fetchDownloadInfo } from "../../sandbox/download-info.js";
import type { Sandbox } from "../../sandbox/types.js";
import { localS3, objectDigest, SILENT_LOGGER } from "../support/world";

export const MiB = 1024 * 1024;

export interface S3Call {
  command: string;
  uploadId?: string | undefined;
  partNumber?: number | undefined;
  ok?: boolean;
  /** UploadId returned by CreateMultipartUpload. */
  created?: string | undefined;
}

export interface S3Env {
  server: FauxqsServer;
  s3: S3Client;
  bucket: string;
  calls: S3Call[];
  /** Multipart uploads created but neither completed nor aborted. */
  leakedUploads(): string[];
  /** Part numbers sent per upload, successful UploadPart calls only. */
  partsSent(uploadId?: string): number[];
  count(command: string): number;
  close(): Promise<void>;
}

/** fauxqs in-process on an ephemeral port, and an S3 client configured as production's (path style, endpoint). */
export async function startS3(bucket = "archive"): Promise<S3Env> {
  const server = await startFauxqs({ port: 0, logger: false });
  server.createBucket(bucket);
  const s3 = localS3(server.address, { logger: SILENT_LOGGER });
  const calls: S3Call[] = [];
  // Log every command and its outcome: fauxqs has no ListMultipartUploads, so this is how a test proves
  // that no upload was left behind.
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { UploadId?: string; PartNumber?: number };
      const call: S3Call = {
        command: context.commandName ?? "?",
        uploadId: input.UploadId,
        partNumber: input.PartNumber,
      };
      calls.push(call);
      try {
        const out = await next(args);
        call.ok = true;
        call.created = (out.output as { UploadId?: string }).UploadId;
        return out;
      } catch (err) {
        call.ok = false;
        throw err;
      }
    },
    { step: "initialize", name: "transferTestCallLog" },
  );
  const ok = (c: S3Call, name: string) => c.command === name && c.ok;
  return {
    server,
    s3,
    bucket,
    calls,
    leakedUploads() {
      const created = calls
        .filter((c) => ok(c, "CreateMultipartUploadCommand"))
        .map((c) => c.created as string);
      const ended = new Set(
        calls
          .filter((c) => ok(c, "CompleteMultipartUploadCommand") || ok(c, "AbortMultipartUploadCommand"))
          .map((c) => c.uploadId),
      );
      return created.filter((id) => !ended.has(id));
    },
    partsSent(uploadId) {
      return calls
        .filter((c) => ok(c, "UploadPartCommand") && (uploadId === undefined || c.uploadId === uploadId))
        .map((c) => c.partNumber as number);
    },
    count(command) {
      return calls.filter((c) => c.command === command).length;
    },
    async close() {
      s3.destroy();
      await server.stop();
    },
  };
}

/** sha256 and length of the object under key, or undefined when there is none. */
export async function readBack(
  env: S3Env,
  key: string,
): Promise<{ sha256: string; size: number } | undefined> {
  const digest = await objectDigest(env.s3, env.bucket, key);
  return digest && { sha256: digest.sha256, size: digest.bytes };
}

export async function exists(env: S3Env, key: string): Promise<boolean> {
  try {
    await env.s3.send(new HeadObjectCommand({ Bucket: env.bucket, Key: key }));
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === "NotFound") return false;
    throw err;
  }
}

/**
 * A DownloadSource that asks the sandbox over its real HTTP API, as the DingTalk client will (kept here so
 * these tests do not depend on lib/dingtalk). Counts its calls.
 */
export function sandboxSource(sb: Sandbox, dentryId: string): DownloadSource & { calls: number } {
  const source = {
    calls: 0,
    async getDownloadInfo(): Promise<SignedDownload> {
      source.calls++;
      return fetchDownloadInfo(sb.url, dentryId);
    },
  };
  return source;
}

/** What the lying file host does to one ranged GET (see startLyingHost). */
export type Lie =
  /** Serve the range one byte later, with an honest Content-Range for what it sends (206, same length). */
  | "shiftRange"
  /** Serve the range without its last byte, chunked (no Content-Length), the Content-Range as asked. */
  | "shortBody";

/**
 * A file host in front of the sandbox's that tells the lies no well-behaved host (and so not the sandbox)
 * does: `lies` are used up one per ranged GET, in order; every other request is passed through unchanged.
 * `source` rewrites a DownloadSource's URLs to point at it.
 */
export async function startLyingHost(target: string): Promise<{
  host: string;
  lies: Lie[];
  told: Lie[];
  source(inner: DownloadSource): DownloadSource;
  close(): Promise<void>;
}> {
  const told: Lie[] = [];
  const lies: Lie[] = [];
  const server = createServer((req, res) => {
    const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ""));
    const lie = range ? lies.shift() : undefined;
    if (lie) told.push(lie);
    const headers = { ...req.headers, host: target };
    if (lie === "shiftRange" && range)
      headers.range = `bytes=${Number(range[1]) + 1}-${Number(range[2]) + 1}`;
    const upstream = request(`http://${target}${req.url}`, { method: req.method, headers }, (answer) => {
      if (lie !== "shortBody") {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const { "content-length": _length, ...rest } = answer.headers;
      res.writeHead(answer.statusCode ?? 502, rest);
      const chunks: Buffer[] = [];
      answer.on("data", (c: Buffer) => chunks.push(c));
      answer.on("end", () => res.end(Buffer.concat(chunks).subarray(0, -1)));
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  const host = `127.0.0.1:${address.port}`;
  return {
    host,
    lies,
    told,
    source: (inner) => ({
      async getDownloadInfo(): Promise<SignedDownload> {
        const info = await inner.getDownloadInfo();
        return {
          ...info,
          resourceUrls: info.resourceUrls.map((u) => {
            const url = new URL(u);
            url.host = host;
            return url.toString();
          }),
        };
      },
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
