/**
 * The DingTalk OpenAPI client: the calls this project makes, each one a short description of the HTTP
 * request plus the schema of its answer. Tokens, retries and errors live in token.ts, retry.ts,
 * request.ts and errors.ts.
 *
 * Create it once at module scope in a Lambda, so its access token survives warm invocations.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "../logging";
import type * as z from "../schema";
import { type DingTalkApi, DingTalkError, invalidResponseError } from "./errors";
import { hasLoneSurrogate, urlPathSegment } from "./ids";
import { type CallSpec, callDingTalk, createHttp } from "./request";
import { CLIENT_CODES, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry";
import { createTokenCache } from "./token";
import {
  AccessTokenAnswerSchema,
  type Dentry,
  type DentryPage,
  DentryPageSchema,
  DOWNLOAD_PROTOCOL,
  type DownloadInfo,
  DownloadInfoAnswerSchema,
  GetDentryAnswerSchema,
  type GetDentryInput,
  type GetFileDownloadInfoInput,
  GetSpaceAnswerSchema,
  type GetSpaceInput,
  type ListAllDentriesPageInput,
  type ListDentriesInput,
  type ListDentriesPageInput,
  type SendFileLinkInput,
  type SendFileLinkResult,
  SendFileLinkResultSchema,
  type Space,
} from "./types";

export interface DingTalkClientOptions {
  /** e.g. https://api.dingtalk.com, or the sandbox's URL. May include a path prefix. */
  baseUrl: string;
  appKey: string;
  /**
   * The value, or a reader of it (lib/config's Secret) that the client asks each time it fetches a token, and
   * asks to read the store again at once when DingTalk refuses the value (the secret was rotated).
   */
  appSecret: string | AppSecretReader;
  /** Merged over DEFAULT_RETRY_POLICY (5 attempts, 200 ms base, 1 s after QPS limits, 20 s in all). */
  retry?: Partial<RetryPolicy>;
  /** Per attempt, for the answer and again for its body. Default 10 s. */
  timeoutMs?: number;
  /**
   * Download URLs inside Alibaba Cloud's network (DINGTALK_PREFER_INTRANET). DingTalk defaults this to true,
   * so the client always sends its choice; default false.
   */
  preferIntranet?: boolean;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default: silent. */
  logger?: Logger;
  /** Clock for token expiry and the retry budget. Default Date.now. */
  now?: () => number;
  /** Waits between retries. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * Called before every attempt of a metered call (every API but the token one): DingTalk counts each against
   * the org's monthly quota. It may throw (e.g. lib/budget's QuotaExhausted): the call is then not made and
   * the error reaches the caller unchanged.
   */
  beforeMeteredCall?: (api: DingTalkApi) => Promise<void>;
}

/** Where a rotating app secret is read from (lib/config's Secret fits). */
export interface AppSecretReader {
  get(): Promise<string>;
  refresh(): Promise<string>;
}

/** DingTalk's answer to a token request whose app key or secret it does not know. */
const APP_SECRET_REFUSED = "invalidClientIdOrSecret";

export interface DingTalkClient {
  /** A cached access token, refreshed ahead of expiry; concurrent callers share one refresh. */
  getAccessToken(): Promise<string>;
  /** Send a file's link into a conversation (convFile). */
  /** `deadline` (epoch ms): no attempt starts that could end after it (request.ts CallSpec.deadline). */
  sendFileLink(
    input: SendFileLinkInput,
    options?: { deadline?: number | undefined },
  ): Promise<SendFileLinkResult>;
  /** Signed URLs + headers to GET a file. Secrets: never log them. */
  getFileDownloadInfo(input: GetFileDownloadInfoInput): Promise<DownloadInfo>;
  /** One page of a folder's children. */
  listDentriesPage(input: ListDentriesPageInput): Promise<DentryPage>;
  /**
   * One page of the whole space, flat, by modified time (POST .../dentries/listAll, as the official SDK's
   * ListAllDentries: `unionId` in the query, `{option: {maxResults, order, nextToken}}` in the body).
   */
  listAllDentriesPage(input: ListAllDentriesPageInput): Promise<DentryPage>;
  /** Every child of a folder, page after page (one API call per page of up to 50). */
  listDentries(input: ListDentriesInput): AsyncIterable<Dentry>;
  getDentry(input: GetDentryInput): Promise<Dentry>;
  getSpace(input: GetSpaceInput): Promise<Space>;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const DEFAULT_TIMEOUT_MS = 10_000;
/** DingTalk's maximum page size: fewer, fuller pages spend less of the org's monthly API quota. */
const DEFAULT_PAGE_SIZE = 50;

/** Refuse an empty id before it reaches a URL (".../spaces//dentries" would mean something else). */
function required(name: string, value: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`DingTalk client: ${name} must be a non-empty string`);
  }
  // URLSearchParams would silently send U+FFFD instead (another id), encodeURIComponent throw.
  if (hasLoneSurrogate(value)) {
    throw new TypeError(`DingTalk client: ${name} must be well-formed Unicode (it holds a lone surrogate)`);
  }
  return value;
}

/** Download info in the one protocol the engine speaks, or an error naming what came instead. */
function downloadInfoOf(answer: z.output<typeof DownloadInfoAnswerSchema>): DownloadInfo {
  if (answer.protocol !== DOWNLOAD_PROTOCOL || answer.headerSignatureInfo === undefined) {
    throw new DingTalkError({
      api: "getFileDownloadInfo",
      status: 200,
      code: CLIENT_CODES.unsupportedProtocol,
      detail: `DingTalk offered the download protocol ${JSON.stringify(answer.protocol.slice(0, 40))}; only ${DOWNLOAD_PROTOCOL} is supported`,
    });
  }
  return { protocol: DOWNLOAD_PROTOCOL, headerSignatureInfo: answer.headerSignatureInfo };
}

export function createDingTalkClient(options: DingTalkClientOptions): DingTalkClient {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const attemptTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const http = createHttp({
    baseUrl: required("baseUrl", options.baseUrl),
    timeoutMs: attemptTimeoutMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const appSecret =
    typeof options.appSecret === "string"
      ? { get: async () => options.appSecret as string, refresh: async () => options.appSecret as string }
      : options.appSecret;
  // Every app secret used lately, redacted from whatever is logged or thrown (a rotation leaves two).
  const usedSecrets: string[] = typeof options.appSecret === "string" ? [options.appSecret] : [];
  const requestToken = (secret: string) => {
    if (!usedSecrets.includes(secret)) usedSecrets.push(secret);
    if (usedSecrets.length > 3) usedSecrets.shift();
    return call({
      api: "getAccessToken",
      method: "post",
      path: "v1.0/oauth2/accessToken",
      json: { appKey: options.appKey, appSecret: secret },
      schema: AccessTokenAnswerSchema,
      authenticated: false,
    });
  };
  const tokens = createTokenCache({
    now,
    logger,
    fetchToken: async () => {
      const secret = await appSecret.get();
      try {
        return await requestToken(secret);
      } catch (error) {
        if (!(error instanceof DingTalkError) || error.code !== APP_SECRET_REFUSED) throw error;
        // Refused: the cached secret may have been rotated since it was read. Read it now and try once more.
        const fresh = await appSecret.refresh();
        if (fresh === secret) throw error;
        logger.warn("DingTalk refused the cached app secret; retrying with the value just read");
        return requestToken(fresh);
      }
    },
  });

  function call<S extends z.ZodMiniType>(spec: CallSpec<S>): Promise<z.output<S>> {
    return callDingTalk(spec, {
      http,
      tokens,
      policy,
      now,
      attemptTimeoutMs,
      sleep: options.sleep ?? ((ms) => delay(ms)),
      random: options.random ?? Math.random,
      logger,
      secrets: () => [...usedSecrets, ...tokens.secrets()],
      beforeMeteredCall: options.beforeMeteredCall,
    });
  }

  function storagePath(spaceId: string, ...rest: string[]): string {
    return ["v1.0/storage/spaces", urlPathSegment("spaceId", spaceId), ...rest].join("/");
  }

  function listDentriesPage(input: ListDentriesPageInput): Promise<DentryPage> {
    return call({
      api: "listDentries",
      method: "get",
      path: storagePath(input.spaceId, "dentries"),
      searchParams: {
        unionId: required("unionId", input.unionId),
        parentId: required("parentId", input.parentId),
        maxResults: input.maxResults ?? DEFAULT_PAGE_SIZE,
        orderBy: input.orderBy,
        order: input.order,
        withThumbnail: input.withThumbnail,
        nextToken: input.nextToken || undefined,
      },
      schema: DentryPageSchema,
      authenticated: true,
    });
  }

  return {
    getAccessToken: () => tokens.get(),

    sendFileLink: (input, callOptions) =>
      call({
        deadline: callOptions?.deadline,
        api: "sendFileLink",
        method: "post",
        path: "v1.0/convFile/conversations/files/links/send",
        searchParams: { unionId: required("unionId", input.unionId) },
        json: {
          spaceId: required("spaceId", input.spaceId),
          dentryId: required("dentryId", input.dentryId),
          openConversationId: required("openConversationId", input.openConversationId),
        },
        schema: SendFileLinkResultSchema,
        authenticated: true,
        // Posting a link twice posts it twice: repeated only where DingTalk certainly did nothing.
        idempotent: false,
      }),

    getFileDownloadInfo: async (input) => {
      const answer = await call({
        api: "getFileDownloadInfo",
        method: "post",
        path: storagePath(
          input.spaceId,
          "dentries",
          urlPathSegment("dentryId", input.dentryId),
          "downloadInfos/query",
        ),
        searchParams: { unionId: required("unionId", input.unionId) },
        // preferIntranet defaults to true on DingTalk's side: always send our choice.
        json: {
          option: {
            version: input.version,
            preferIntranet: input.preferIntranet ?? options.preferIntranet ?? false,
          },
        },
        schema: DownloadInfoAnswerSchema,
        authenticated: true,
      });
      return downloadInfoOf(answer);
    },

    listDentriesPage,

    listAllDentriesPage: (input) =>
      call({
        api: "listAllDentries",
        method: "post",
        path: storagePath(input.spaceId, "dentries", "listAll"),
        searchParams: { unionId: required("unionId", input.unionId) },
        json: {
          option: {
            maxResults: input.maxResults ?? DEFAULT_PAGE_SIZE,
            ...(input.order ? { order: input.order } : {}),
            ...(input.nextToken ? { nextToken: input.nextToken } : {}),
          },
        },
        schema: DentryPageSchema,
        authenticated: true,
      }),

    async *listDentries(input) {
      let nextToken: string | undefined;
      do {
        const page = await listDentriesPage({ ...input, nextToken });
        yield* page.dentries;
        if (page.nextToken && page.nextToken === nextToken) {
          // Following it again would loop forever.
          throw invalidResponseError("listDentries", 200, undefined, "nextToken did not advance");
        }
        nextToken = page.nextToken || undefined;
      } while (nextToken);
    },

    getDentry: async (input) => {
      const answer = await call({
        api: "getDentry",
        method: "post",
        path: storagePath(input.spaceId, "dentries", urlPathSegment("dentryId", input.dentryId), "query"),
        searchParams: { unionId: required("unionId", input.unionId) },
        json: { option: {} },
        schema: GetDentryAnswerSchema,
        authenticated: true,
      });
      return answer.dentry;
    },

    getSpace: async (input) => {
      const answer = await call({
        api: "getSpace",
        method: "get",
        path: storagePath(input.spaceId),
        searchParams: { unionId: required("unionId", input.unionId) },
        schema: GetSpaceAnswerSchema,
        authenticated: true,
      });
      return answer.space;
    },
  };
}
