/**
 * The file host behind signed download URLs, behaving like OSS: signed headers checked, URLs expire,
 * a valid single Range answers 206, an invalid or out-of-bounds one answers 200 with the whole file,
 * a multi-range request gets only its first range.
 */
import { createReadStream, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { writeBody } from "./body";
import { generatedStream } from "./content";
import { faultError } from "./faults";
import { newRequestIds, setRequestIdHeaders, sleep } from "./http";
import type { SandboxState } from "./state";
import type { ContentSource, FileVersion } from "./tree";

/** Path of a resource URL: /files/<urlIndex>/<spaceId>/<dentryId>/<version>. */
const FILE_PATH = /^\/files\/(\d+)(\/[^/]+\/[^/]+\/(\d+))$/;

export function isFileHostPath(pathname: string): boolean {
  return pathname.startsWith("/files/");
}

export function resourceUrl(baseUrl: string, urlIndex: number, resourcePath: string, expires: number) {
  return `${baseUrl}/files/${urlIndex}${resourcePath}?Expires=${expires}`;
}

/**
 * Parse a Range header against a size. Returns the inclusive range to serve, or undefined for
 * "serve the whole file" (no header, a malformed or unsatisfiable range). Only the first of several
 * ranges counts, as on OSS.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*(?:,.*)?$/.exec(header.trim());
  if (!m) return undefined;
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return undefined;
  if (a === "") {
    // Suffix range: the last b bytes.
    const n = Number(b);
    return n > 0 && n <= size ? { start: size - n, end: size - 1 } : undefined;
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Number(b);
  if (start > end || end >= size) return undefined;
  return { start, end };
}

function xmlError(res: ServerResponse, status: number, code: string, message: string, requestId: string) {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n` +
    `  <RequestId>${requestId}</RequestId>\n  <HostId>sandbox</HostId>\n</Error>\n`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function openSource(source: ContentSource, start: number, end: number): Readable {
  if (end < start) return Readable.from([]);
  switch (source.kind) {
    case "generated":
      return generatedStream(source.seed, source.size, start, end);
    case "bytes":
      return Readable.from([source.data.subarray(start, end + 1)]);
    case "disk":
      return createReadStream(source.file, { start, end, highWaterMark: 1024 * 1024 });
  }
}

/** A disk file changed since it was listed: its signed version no longer exists. */
function diskVersionGone(v: FileVersion): boolean {
  if (v.source.kind !== "disk") return false;
  try {
    const st = statSync(v.source.file);
    return `${st.size}:${st.mtimeMs}` !== v.diskStamp;
  } catch {
    return true;
  }
}

export async function handleFileRequest(
  state: SandboxState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) {
  const ids = newRequestIds();
  setRequestIdHeaders(res, ids);
  res.setHeader("x-oss-request-id", ids.requestId);
  state.calls.file += 1;
  const fail = (status: number, code: string, message: string) =>
    xmlError(res, status, code, message, ids.requestId);

  const m = FILE_PATH.exec(url.pathname);
  const urlIndex = m ? Number(m[1]) : undefined;
  const plan = state.faults.plan("file", header(req, "x-sandbox-fault"), urlIndex);
  if (plan.latencyMs > 0) await sleep(plan.latencyMs);
  if (plan.body?.kind === "dropConnection" && !(plan.body.afterBytes ?? 0)) {
    req.socket.destroy(); // before any header, as a reset connection
    return;
  }
  if (plan.answer?.kind === "urlExpired") return fail(403, "AccessDenied", "Request has expired.");
  if (plan.answer) {
    const e = faultError(plan.answer);
    const code = plan.answer.kind === "systemError" ? "InternalError" : e.code;
    return fail(e.status, code, e.message);
  }
  if (req.method !== "GET" && req.method !== "HEAD") return fail(405, "MethodNotAllowed", "GET or HEAD only");
  if (!m) return fail(404, "NoSuchKey", "The specified key does not exist.");

  const resource = m[2] ?? "";
  const expires = Number(url.searchParams.get("Expires"));
  const authorization = header(req, "authorization");
  if (
    !Number.isInteger(expires) ||
    !state.signer.verify(resource, expires, authorization, header(req, "x-oss-date"))
  ) {
    return fail(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided.",
    );
  }
  if (state.now() / 1000 > expires) return fail(403, "AccessDenied", "Request has expired.");

  const [, spaceId = "", dentryId = ""] = resource.split("/").map(decodeURIComponent);
  const versionNo = Number(m[3]);
  const dentry = spaceId === state.options.spaceId ? state.tree.get(dentryId) : undefined;
  const version = dentry?.versions.find((v) => v.version === versionNo);
  if (!version || diskVersionGone(version))
    return fail(404, "NoSuchKey", "The specified key does not exist.");

  const size = version.size;
  const range = plan.ignoreRange ? undefined : parseRange(header(req, "range"), size);
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  res.statusCode = range ? 206 : 200;
  res.setHeader("content-type", "application/octet-stream");
  res.setHeader("content-length", end - start + 1);
  if (range) res.setHeader("content-range", `bytes ${start}-${end}/${size}`);
  res.setHeader("accept-ranges", "bytes");
  res.setHeader("etag", `"${dentryId}-${versionNo}"`);
  res.setHeader("last-modified", version.modifiedTime.toUTCString());
  if (plan.body) res.setHeader("connection", "close");
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  await writeBody(res, openSource(version.source, start, end), {
    bytesPerSecond: state.options.bandwidthBytesPerSecond,
    fault: plan.body,
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
