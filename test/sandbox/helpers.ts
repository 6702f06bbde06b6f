/** Test helpers: talk to a sandbox over real HTTP with fetch, the way clients do. */
import type { Sandbox } from "../../sandbox/types";

export interface DownloadInfo {
  protocol: string;
  headerSignatureInfo: {
    resourceUrls: string[];
    headers: Record<string, string>;
    expirationSeconds: number;
    region: string;
    internalResourceUrls: string[];
  };
}

export interface WireDentry {
  id: string;
  parentId: string;
  type: "FILE" | "FOLDER";
  name: string;
  size?: number;
  path: string;
  version: number;
  modifiedTime: string;
  [field: string]: unknown;
}

export async function token(sb: Sandbox): Promise<string> {
  const res = await fetch(`${sb.url}/v1.0/oauth2/accessToken`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ appKey: sb.options.appKey, appSecret: sb.options.appSecret }),
  });
  const body = (await res.json()) as { accessToken: string };
  return body.accessToken;
}

/** Call an OpenAPI path (with the sandbox's token unless `headers` says otherwise). */
export async function call(
  sb: Sandbox,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${sb.url}${path}`, {
    method,
    headers: {
      "x-acs-dingtalk-access-token": await token(sb),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export const storage = (sb: Sandbox) => `/v1.0/storage/spaces/${sb.options.spaceId}`;
export const union = (sb: Sandbox) => `unionId=${sb.options.unionId}`;

export async function downloadInfo(sb: Sandbox, dentryId: string, version?: number): Promise<DownloadInfo> {
  const r = await call(sb, "POST", `${storage(sb)}/dentries/${dentryId}/downloadInfos/query?${union(sb)}`, {
    option: { preferIntranet: false, ...(version === undefined ? {} : { version }) },
  });
  if (r.status !== 200) throw new Error(`downloadInfo ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as unknown as DownloadInfo;
}

/** GET a signed resource URL with its headers (plus extra ones, e.g. Range). */
export function fetchFile(
  info: DownloadInfo,
  extra: Record<string, string> = {},
  urlIndex = 0,
  init: RequestInit = {},
) {
  const url = info.headerSignatureInfo.resourceUrls[urlIndex];
  if (!url) throw new Error(`no resource URL ${urlIndex}`);
  return fetch(url, {
    ...init,
    headers: { ...info.headerSignatureInfo.headers, "accept-encoding": "identity", ...extra },
  });
}

/** Read a body to the end, counting bytes; a broken connection is reported, not thrown. */
export async function drain(res: Response): Promise<{ bytes: number; error?: unknown; data?: Buffer }> {
  let bytes = 0;
  const parts: Buffer[] = [];
  try {
    for await (const chunk of res.body ?? []) {
      bytes += chunk.length;
      if (bytes <= 4 * 1024 * 1024) parts.push(Buffer.from(chunk));
    }
  } catch (error) {
    return { bytes, error };
  }
  return { bytes, ...(bytes <= 4 * 1024 * 1024 ? { data: Buffer.concat(parts) } : {}) };
}

export function idOf(sb: Sandbox, path: string): string {
  const id = sb.dentryIdByPath(path);
  if (!id) throw new Error(`no dentry at ${path}`);
  return id;
}

/** A fetch body as an async iterable of bytes (node's web ReadableStream is one). */
export function bodyOf(res: Response): AsyncIterable<Uint8Array> {
  if (!res.body) return (async function* () {})();
  return res.body as unknown as AsyncIterable<Uint8Array>;
}
