/**
 * A small recording, fault-injecting HTTP proxy between the archive CLI and the S3 emulator (fauxqs).
 *
 * - Records every multipart upload by id: CreateMultipartUpload (the UploadId in fauxqs's answer), its
 *   UploadPart requests and their payload bytes, and whether it ended by CompleteMultipartUpload or
 *   AbortMultipartUpload (as the emulator answered them). fauxqs has no ListMultipartUploads, so this is how
 *   the campaign finds a leaked upload.
 * - Injects S3 faults the emulator never produces, from a plan set per run: UploadPart answered 500
 *   InternalError / 503 SlowDown (after the body was read, as S3 does), an UploadPart connection reset
 *   mid-body, CompleteMultipartUpload answered 500 before it reaches the emulator, and a Complete whose
 *   answer is lost after the emulator completed the upload (the connection is dropped instead of relaying it).
 * - Lets the campaign act at an exact protocol moment (`hook`): e.g. SIGKILL the CLI after the emulator
 *   completed the upload but before the CLI hears of it. The proxy waits for the hook before going on.
 *
 * Path-style requests only (the CLI sets forcePathStyle when AWS_ENDPOINT_URL_S3 is set). The emulator
 * behind it can be replaced (`setTarget`) when the campaign restarts fauxqs to free its memory.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type S3Op =
  | "CreateMultipartUpload"
  | "UploadPart"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "PutObject"
  | "HeadObject"
  | "GetObject"
  | "DeleteObject"
  | "Other";

export interface S3Faults {
  /** UploadPart requests answered 500 InternalError after their body was read. */
  partInternalError?: number;
  /** UploadPart requests answered 503 SlowDown after their body was read. */
  partSlowDown?: number;
  /** UploadPart requests whose connection is destroyed after ~`resetAfterBytes` body bytes. */
  partReset?: number;
  resetAfterBytes?: number;
  /** PutObject requests answered 500 InternalError after the body was read. */
  putInternalError?: number;
  /** CompleteMultipartUpload requests answered 500 InternalError without reaching the emulator. */
  completeInternalError?: number;
  /** CompleteMultipartUpload requests forwarded (the emulator completes the upload) whose answer is dropped. */
  completeAnswerLost?: number;
  /** CreateMultipartUpload requests answered 503 SlowDown without reaching the emulator. */
  createSlowDown?: number;
}

export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  createdAt: number;
  state: "open" | "completed" | "aborted";
  /** Payload bytes of UploadPart requests forwarded to the emulator (as declared; accepted or not). */
  partBytes: number;
  partRequests: number;
  endedAt?: number;
}

/** What the proxy is about to do; a hook may delay it (the proxy awaits the hook). */
export interface ProxyMoment {
  op: S3Op;
  /** "request": received, not forwarded yet. "answer": the emulator answered, not relayed yet. */
  phase: "request" | "answer";
  bucket: string;
  key: string;
  uploadId?: string | undefined;
  partNumber?: number | undefined;
  status?: number | undefined;
  /** Counts of this op for this key so far, this one included. */
  nth: number;
}

export interface ProxyStats {
  requests: Partial<Record<S3Op, number>>;
  injected: Partial<Record<keyof S3Faults, number>>;
  /** UploadPart + PutObject payload bytes the clients sent (as declared; answered by the emulator or a fault). */
  bytesUploaded: number;
}

export interface S3Proxy {
  url: string;
  server: Server;
  setTarget(url: string): void;
  /** Faults for the requests on `key` that follow (counts are consumed). */
  setFaults(key: string, faults: S3Faults): void;
  /** Called at each moment of a request on `key`; the proxy waits for it. */
  setHook(key: string, hook: ((m: ProxyMoment) => void | Promise<void>) | undefined): void;
  /** Payload bytes of UploadPart and PutObject requests on `key` (as declared), faulted ones included. */
  bytesFor(key: string): number;
  uploads(key?: string): UploadRecord[];
  /** Uploads created (for `key`) and neither completed nor aborted. */
  openUploads(key?: string): UploadRecord[];
  /** Forget the records of `key`'s uploads (after they were checked). */
  forget(key: string): void;
  stats: ProxyStats;
  close(): Promise<void>;
}

function classify(method: string, q: URLSearchParams, key: string): S3Op {
  if (key === "") return "Other";
  if (method === "POST" && q.has("uploads")) return "CreateMultipartUpload";
  if (method === "PUT" && q.has("uploadId") && q.has("partNumber")) return "UploadPart";
  if (method === "POST" && q.has("uploadId")) return "CompleteMultipartUpload";
  if (method === "DELETE" && q.has("uploadId")) return "AbortMultipartUpload";
  if (method === "PUT" && !q.has("uploadId")) return "PutObject";
  if (method === "HEAD") return "HeadObject";
  if (method === "GET" && [...q.keys()].length === 0) return "GetObject";
  if (method === "DELETE") return "DeleteObject";
  return "Other";
}

function declaredPayload(req: IncomingMessage): number {
  const decoded = req.headers["x-amz-decoded-content-length"];
  const value = Array.isArray(decoded) ? decoded[0] : decoded;
  if (value !== undefined) return Number(value);
  return Number(req.headers["content-length"] ?? 0);
}

function s3Error(res: ServerResponse, status: number, code: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code} (injected by the chaos proxy)</Message><RequestId>chaos</RequestId></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export async function startS3Proxy(target: string): Promise<S3Proxy> {
  let targetUrl = new URL(target);
  const faultsByKey = new Map<string, S3Faults>();
  const hooks = new Map<string, (m: ProxyMoment) => void | Promise<void>>();
  const bytesByKey = new Map<string, number>();
  const records = new Map<string, UploadRecord>();
  const counts = new Map<string, number>();
  const stats: ProxyStats = { requests: {}, injected: {}, bytesUploaded: 0 };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();

  /** Consume one of a fault's count for `key`; true if it fires. */
  const takeFor = (key: string, name: keyof S3Faults): boolean => {
    const faults = faultsByKey.get(key);
    const left = faults?.[name] ?? 0;
    if (!faults || left <= 0 || name === "resetAfterBytes") return false;
    faults[name] = left - 1;
    stats.injected[name] = (stats.injected[name] ?? 0) + 1;
    return true;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      req.socket.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy");
    const [, bucket = "", ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const q = url.searchParams;
    const method = req.method ?? "GET";
    const op = classify(method, q, key);
    stats.requests[op] = (stats.requests[op] ?? 0) + 1;
    const counter = `${bucket}/${key}#${op}`;
    const nth = (counts.get(counter) ?? 0) + 1;
    counts.set(counter, nth);
    const uploadId = q.get("uploadId") ?? undefined;
    const partNumber = q.has("partNumber") ? Number(q.get("partNumber")) : undefined;
    const moment = (phase: ProxyMoment["phase"], status?: number): ProxyMoment => ({
      op,
      phase,
      bucket,
      key,
      uploadId,
      partNumber,
      status,
      nth,
    });

    // Bytes the client sends, whether the emulator or an injected fault answers them.
    if (op === "UploadPart" || op === "PutObject") {
      stats.bytesUploaded += declaredPayload(req);
      bytesByKey.set(key, (bytesByKey.get(key) ?? 0) + declaredPayload(req));
    }
    const take = (name: keyof S3Faults) => takeFor(key, name);
    const hook = hooks.get(key);
    await hook?.(moment("request"));

    // Faults answered by the proxy itself.
    if (op === "UploadPart" && take("partInternalError")) {
      await drain(req);
      s3Error(res, 500, "InternalError");
      return;
    }
    if (op === "UploadPart" && take("partSlowDown")) {
      await drain(req);
      s3Error(res, 503, "SlowDown");
      return;
    }
    if (op === "UploadPart" && take("partReset")) {
      const limit = faultsByKey.get(key)?.resetAfterBytes ?? 64 * 1024;
      let seen = 0;
      req.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= limit) req.socket.destroy();
      });
      req.on("end", () => req.socket.destroy());
      return;
    }
    if (op === "PutObject" && take("putInternalError")) {
      await drain(req);
      s3Error(res, 500, "InternalError");
      return;
    }
    if (op === "CompleteMultipartUpload" && take("completeInternalError")) {
      await drain(req);
      s3Error(res, 500, "InternalError");
      return;
    }
    if (op === "CreateMultipartUpload" && take("createSlowDown")) {
      await drain(req);
      s3Error(res, 503, "SlowDown");
      return;
    }
    const loseAnswer = op === "CompleteMultipartUpload" && take("completeAnswerLost");

    if (op === "UploadPart" && uploadId) {
      const record = records.get(uploadId);
      if (record) {
        record.partBytes += declaredPayload(req);
        record.partRequests++;
      }
    }

    // Forward to the emulator.
    const headers = { ...req.headers, host: targetUrl.host };
    const upstream = httpRequest({
      agent,
      host: targetUrl.hostname,
      port: targetUrl.port,
      method,
      path: req.url,
      headers,
    });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      upstream.once("response", resolve);
      upstream.once("error", reject);
    });
    // A client that goes away mid-request (killed CLI, aborted part) ends the upstream request too.
    req.once("aborted", () => upstream.destroy());
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
    let answer: IncomingMessage;
    try {
      answer = await answered;
    } catch {
      req.socket.destroy();
      return;
    }
    const status = answer.statusCode ?? 502;
    const small =
      op === "CreateMultipartUpload" || op === "CompleteMultipartUpload" || op === "AbortMultipartUpload";
    let body: Buffer | undefined;
    if (small) body = await collect(answer);

    // What the emulator did, whether or not the client hears of it.
    const text = body?.toString("utf8") ?? "";
    if (op === "CreateMultipartUpload" && status === 200) {
      const id = /<UploadId>([^<]+)<\/UploadId>/.exec(text)?.[1];
      if (id) {
        records.set(id, {
          uploadId: id,
          bucket,
          key,
          createdAt: Date.now(),
          state: "open",
          partBytes: 0,
          partRequests: 0,
        });
      }
    }
    if (op === "CompleteMultipartUpload" && uploadId && status === 200 && !text.includes("<Error>")) {
      end(uploadId, "completed");
    }
    if (op === "AbortMultipartUpload" && uploadId && (status === 204 || status === 200)) {
      end(uploadId, "aborted");
    }

    await hook?.(moment("answer", status));
    if (loseAnswer) {
      req.socket.destroy();
      answer.resume();
      return;
    }
    if (res.destroyed) {
      answer.resume();
      return;
    }
    res.writeHead(status, answer.headers);
    if (body) res.end(body);
    else answer.pipe(res);
  }

  function end(uploadId: string, state: "completed" | "aborted"): void {
    const record = records.get(uploadId);
    if (record && record.state === "open") {
      record.state = state;
      record.endedAt = Date.now();
    }
  }

  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    server,
    stats,
    setTarget(url) {
      targetUrl = new URL(url);
      agent.destroy();
    },
    setFaults(key, next) {
      faultsByKey.set(key, { ...next });
    },
    setHook(key, next) {
      if (next) hooks.set(key, next);
      else hooks.delete(key);
    },
    bytesFor: (key) => bytesByKey.get(key) ?? 0,
    uploads: (key) => [...records.values()].filter((r) => key === undefined || r.key === key),
    openUploads: (key) =>
      [...records.values()].filter((r) => r.state === "open" && (key === undefined || r.key === key)),
    forget(key) {
      for (const [id, record] of records) if (record.key === key) records.delete(id);
      faultsByKey.delete(key);
      hooks.delete(key);
      bytesByKey.delete(key);
      for (const name of [...counts.keys()]) {
        if (name.slice(name.indexOf("/") + 1, name.lastIndexOf("#")) === key) counts.delete(name);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded) {
      resolve();
      return;
    }
    req.on("end", resolve);
    req.on("error", () => resolve());
    req.on("close", () => resolve());
    req.resume();
  });
}

async function collect(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
