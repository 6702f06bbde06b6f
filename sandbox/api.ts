/** The DingTalk OpenAPI handlers: each takes a parsed request and returns the 200 body or throws. */
import type { IncomingMessage } from "node:http";
import { resourceUrl } from "./file-host";
import { DingTalkError, paramError, readJsonObject } from "./http";
import { UrlSigner } from "./signing";
import type { SandboxState } from "./state";
import { type Dentry, minuteIso, ROOT_ID } from "./tree";

export interface ApiRequest {
  req: IncomingMessage;
  url: URL;
  /** Decoded path parameters, in pattern order. */
  params: string[];
  state: SandboxState;
}

/** DingTalk's ids are opaque: any printable characters (base64 "/+=" included), no control characters. */
const ID_FORMAT = /^[^\p{Cc}]{1,256}$/u;

function query(r: ApiRequest, name: string): string | undefined {
  return r.url.searchParams.get(name) ?? undefined;
}

/** unionId is required on every storage/convFile call; only the sandbox's operator is allowed. */
function checkUnionId(r: ApiRequest): string {
  const unionId = query(r, "unionId");
  if (!unionId) throw paramError("paramError", "unionId is required");
  if (unionId !== r.state.options.unionId) {
    throw new DingTalkError(403, "permissionDenied", `user ${unionId} has no permission on this resource`);
  }
  return unionId;
}

function checkId(value: string | undefined, code: string, what: string): string {
  if (!value || !ID_FORMAT.test(value))
    throw paramError(code, `invalid ${what}: ${JSON.stringify(value ?? "")}`);
  return value;
}

/** The space from the path, or 404 spaceNotExist. */
function space(r: ApiRequest): string {
  const spaceId = checkId(r.params[0], "paramError.spaceId", "spaceId");
  if (spaceId !== r.state.options.spaceId) {
    throw new DingTalkError(404, "spaceNotExist", `space ${spaceId} does not exist`);
  }
  return spaceId;
}

function dentry(r: ApiRequest, id: string | undefined): Dentry {
  const dentryId = checkId(id, "paramError.dentryId", "dentryId");
  const d = r.state.tree.get(dentryId);
  if (!d) throw new DingTalkError(404, "dentryNotExist", `dentry ${dentryId} does not exist`);
  return d;
}

function optionOf(body: Record<string, unknown>): Record<string, unknown> {
  const option = body.option ?? {};
  if (typeof option !== "object" || option === null || Array.isArray(option)) {
    throw paramError("paramError", "option must be an object");
  }
  return option as Record<string, unknown>;
}

function intParam(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw paramError("paramError", `${name} must be an integer between ${min} and ${max}`);
  }
  return n;
}

// ---------- token ----------

export async function getAccessToken(r: ApiRequest) {
  const body = await readJsonObject(r.req);
  const { appKey, appSecret } = r.state.options;
  if (body.appKey !== appKey || body.appSecret !== appSecret) {
    throw paramError("invalidClientIdOrSecret", "无效的clientId或者clientSecret");
  }
  return r.state.tokens.issue();
}

// ---------- convFile ----------

export async function sendLink(r: ApiRequest) {
  const unionId = query(r, "unionId");
  if (!unionId) throw paramError("paramError", "unionId is required");
  const body = await readJsonObject(r.req);
  if (Object.keys(body).length === 0) throw paramError("paramError", "request body is required");
  const spaceId = checkId(str(body.spaceId), "paramError.spaceId", "spaceId");
  const dentryId = checkId(str(body.dentryId), "paramError.dentryId", "dentryId");
  const conversationId = str(body.openConversationId);
  if (!conversationId) throw paramError("paramError.conversationId", "openConversationId is required");
  checkUnionId(r);
  const { state } = r;
  if (conversationId !== state.options.conversationId) {
    throw new DingTalkError(404, "conversationNotExist", `conversation ${conversationId} does not exist`);
  }
  // This API has no spaceNotExist/dentryNotExist: an unknown id is a parameter error.
  if (spaceId !== state.options.spaceId)
    throw paramError("paramError.spaceId", `space ${spaceId} does not exist`);
  const d = state.tree.get(dentryId);
  if (!d) throw paramError("paramError.dentryId", `dentry ${dentryId} does not exist`);

  state.links.push({
    unionId,
    spaceId,
    dentryId,
    openConversationId: conversationId,
    at: new Date(state.now()).toISOString(),
  });
  const j = state.tree.toJson(d);
  return {
    file: {
      id: j.id,
      conversationId,
      spaceId: j.spaceId,
      parentId: j.parentId,
      type: j.type,
      name: j.name,
      ...(j.size === undefined ? {} : { size: j.size }),
      path: j.path,
      version: j.version,
      status: j.status,
      ...(j.extension === undefined ? {} : { extension: j.extension }),
      creatorId: j.creatorId,
      modifierId: j.modifierId,
      createTime: j.createTime,
      modifiedTime: j.modifiedTime,
      uuid: j.uuid,
    },
  };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
}

// ---------- storage: download ----------

export async function getFileDownloadInfo(r: ApiRequest) {
  const spaceId = checkId(r.params[0], "paramError.spaceId", "spaceId");
  checkId(r.params[1], "paramError.dentryId", "dentryId");
  const option = optionOf(await readJsonObject(r.req));
  checkUnionId(r);
  space(r);
  const d = dentry(r, r.params[1]);
  if (d.type === "FOLDER") throw paramError("operationNotSupported", "a folder cannot be downloaded");
  const current = d.versions.at(-1);
  const wanted = option.version === undefined || option.version === null ? current?.version : option.version;
  const version = d.versions.find((v) => v.version === wanted);
  if (!version) throw paramError("paramError", `version ${JSON.stringify(wanted)} of ${d.id} does not exist`);
  if (version.source.kind === "disk" && version !== current) {
    throw paramError("paramError", `version ${version.version} of ${d.id} is no longer stored`);
  }

  const { state } = r;
  const ttl = state.options.urlTtlSeconds;
  const nowMs = state.now();
  const expires = Math.floor(nowMs / 1000) + ttl;
  const signed = { spaceId, dentryId: d.id, version: version.version };
  const path = UrlSigner.resourcePath(signed);
  return {
    protocol: "HEADER_SIGNATURE",
    headerSignatureInfo: {
      // Two URLs to the same content, so clients can fail over (faults can target one by urlIndex).
      resourceUrls: [0, 1].map((i) => resourceUrl(state.baseUrl, i, path, expires)),
      headers: state.signer.sign(signed, expires, new Date(nowMs)),
      expirationSeconds: ttl,
      region: "ZHANGJIAKOU",
      internalResourceUrls: [resourceUrl(state.baseUrl, 9, path, expires)],
    },
  };
}

// ---------- storage: metadata and listing ----------

export async function getDentry(r: ApiRequest) {
  optionOf(await readJsonObject(r.req));
  checkUnionId(r);
  space(r);
  const d = dentry(r, r.params[1]);
  return { dentry: r.state.tree.toJson(d) };
}

export async function getSpace(r: ApiRequest) {
  checkUnionId(r);
  const spaceId = space(r);
  const { state } = r;
  const created = minuteIso(new Date(Date.UTC(2026, 0, 1, 8, 0)));
  return {
    space: {
      id: spaceId,
      name: "Sandbox space",
      corpId: "ding-sandbox-corp",
      appId: state.options.appKey,
      ownerId: state.options.unionId,
      ownerType: "ORG",
      scene: "default",
      sceneId: "0",
      status: "NORMAL",
      quota: 1024 ** 4,
      usedQuota: state.tree.usedBytes(),
      creatorId: state.options.unionId,
      modifierId: state.options.unionId,
      createTime: created,
      modifiedTime: created,
      capabilities: { canRecordRecentFile: true, canRename: true, canSearch: true },
      partitions: [
        {
          partitionType: "PUBLIC_OSS_PARTITION",
          quota: { max: 1024 ** 4, used: state.tree.usedBytes(), reserved: 0, type: "PERSONAL" },
        },
      ],
    },
  };
}

const ORDER_BY = ["MODIFIED_TIME", "CREATE_TIME", "NAME", "SIZE"] as const;
type OrderBy = (typeof ORDER_BY)[number];

function sortKey(d: Dentry, by: OrderBy): number | string {
  switch (by) {
    case "MODIFIED_TIME":
      return d.versions.at(-1)?.modifiedTime.getTime() ?? d.modifiedTime.getTime();
    case "CREATE_TIME":
      return d.createTime.getTime();
    case "NAME":
      return d.name;
    case "SIZE":
      return d.versions.at(-1)?.size ?? 0;
  }
}

/** A total order (ties broken by name, then id), so pages never overlap or skip. */
function sorted(entries: Dentry[], by: OrderBy, order: "ASC" | "DESC"): Dentry[] {
  const sign = order === "ASC" ? 1 : -1;
  const cmp = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...entries].sort(
    (a, b) => sign * (cmp(sortKey(a, by), sortKey(b, by)) || cmp(a.name, b.name) || cmp(a.id, b.id)),
  );
}

/** nextToken: an opaque offset, tied to the listing it came from. */
function page<T>(all: T[], listing: string, nextToken: string | undefined, maxResults: number) {
  let offset = 0;
  if (nextToken) {
    try {
      const t = JSON.parse(Buffer.from(nextToken, "base64url").toString("utf8")) as {
        o?: unknown;
        l?: unknown;
      };
      if (typeof t.o !== "number" || t.l !== listing) throw new Error("foreign token");
      offset = t.o;
    } catch {
      throw paramError("paramError", "invalid nextToken");
    }
  }
  const items = all.slice(offset, offset + maxResults);
  const next = offset + items.length;
  const token =
    next < all.length
      ? Buffer.from(JSON.stringify({ o: next, l: listing })).toString("base64url")
      : undefined;
  return { items, nextToken: token };
}

function orderParams(orderByRaw: unknown, orderRaw: unknown): { by: OrderBy; order: "ASC" | "DESC" } {
  const by = (typeof orderByRaw === "string" && orderByRaw ? orderByRaw : "MODIFIED_TIME").toUpperCase();
  const order = (typeof orderRaw === "string" && orderRaw ? orderRaw : "DESC").toUpperCase();
  if (!(ORDER_BY as readonly string[]).includes(by)) throw paramError("paramError", `bad orderBy ${by}`);
  if (order !== "ASC" && order !== "DESC") throw paramError("paramError", `bad order ${order}`);
  return { by: by as OrderBy, order };
}

/** Page size when the caller gives none. Real DingTalk's default is not documented: pass maxResults. */
const DEFAULT_PAGE = 30;

export async function listDentries(r: ApiRequest) {
  checkUnionId(r);
  space(r);
  const parentId = query(r, "parentId");
  if (!parentId) throw paramError("paramError", "parentId is required");
  if (parentId !== ROOT_ID) {
    const parent = dentry(r, parentId);
    if (parent.type !== "FOLDER") throw paramError("paramError", `parent ${parentId} is not a folder`);
  }
  const maxResults = intParam(query(r, "maxResults"), "maxResults", 1, 50, DEFAULT_PAGE);
  const { by, order } = orderParams(query(r, "orderBy"), query(r, "order"));
  const all = sorted(r.state.tree.children(parentId), by, order);
  const { items, nextToken } = page(
    all,
    `list:${parentId}:${by}:${order}`,
    query(r, "nextToken"),
    maxResults,
  );
  return { dentries: items.map((d) => r.state.tree.toJson(d)), ...(nextToken ? { nextToken } : {}) };
}

export async function listAllDentries(r: ApiRequest) {
  const option = optionOf(await readJsonObject(r.req));
  checkUnionId(r);
  space(r);
  const maxResults = intParam(option.maxResults, "maxResults", 1, 50, DEFAULT_PAGE);
  const { order } = orderParams(undefined, option.order);
  const all = sorted(r.state.tree.all(), "MODIFIED_TIME", order);
  const token = typeof option.nextToken === "string" ? option.nextToken : undefined;
  const { items, nextToken } = page(all, `listAll:${order}`, token, maxResults);
  return { dentries: items.map((d) => r.state.tree.toJson(d)), ...(nextToken ? { nextToken } : {}) };
}

export async function listDentryVersions(r: ApiRequest) {
  checkUnionId(r);
  space(r);
  const d = dentry(r, r.params[1]);
  if (d.type === "FOLDER") throw paramError("operationNotSupported", "a folder has no versions");
  const maxResults = intParam(query(r, "maxResults"), "maxResults", 1, 100, 50);
  const newestFirst = [...d.versions].reverse();
  const { items, nextToken } = page(newestFirst, `versions:${d.id}`, query(r, "nextToken"), maxResults);
  return { dentries: items.map((v) => r.state.tree.toJson(d, v)), ...(nextToken ? { nextToken } : {}) };
}
