/**
 * The sandbox's public contract: what tests, the local stack, the CLI and the benchmark rely on.
 * The sandbox is a local DingTalk server (OpenAPI + the file host behind signed download URLs).
 */

/** Names of the DingTalk APIs the sandbox implements, used for fault targeting and call counting. */
export type SandboxApi =
  | "token" // POST /v1.0/oauth2/accessToken
  | "sendLink" // POST /v1.0/convFile/conversations/files/links/send
  | "downloadInfo" // POST /v1.0/storage/spaces/{spaceId}/dentries/{dentryId}/downloadInfos/query
  | "listDentries" // GET  /v1.0/storage/spaces/{spaceId}/dentries
  | "listAllDentries" // POST /v1.0/storage/spaces/{spaceId}/dentries/listAll
  | "getDentry" // POST /v1.0/storage/spaces/{spaceId}/dentries/{dentryId}/query
  | "getSpace" // GET  /v1.0/storage/spaces/{spaceId}
  | "listVersions" // GET  /v1.0/storage/spaces/{spaceId}/dentries/{dentryId}/versions
  | "file"; // GET on the file host behind a signed resource URL

export type FaultKind =
  /** Delay the answer by `latencyMs`. */
  | "latency"
  /** 500 systemError. */
  | "systemError"
  /** 503 operationTimeout. */
  | "operationTimeout"
  /** 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi. */
  | "qpsLimit"
  /** 429 system.busy. */
  | "systemBusy"
  /** 400 InvalidAuthentication, as if the token expired (API calls only). */
  | "tokenExpired"
  /** 400 fileArchived (downloadInfo only). */
  | "fileArchived"
  /** Any DingTalk error: `status` and `code` (and optional `message`) as given. */
  | "error"
  /** Destroy the socket after `afterBytes` body bytes (default 0: before any header). */
  | "dropConnection"
  /** Declare the full Content-Length but end the response cleanly after `afterBytes` body bytes. */
  | "truncate"
  /** File host: ignore Range and answer 200 with the whole file. */
  | "ignoreRange"
  /** File host: answer 403 as an expired signed URL does. */
  | "urlExpired"
  /**
   * Send `afterBytes` bytes, then stall (no more bytes, socket open) for `latencyMs` (default: until the
   * client gives up). On an API call the call takes effect first (a send is recorded), then its answer stalls.
   */
  | "stall"
  /**
   * API calls: the call takes effect and is answered 200 with `fields` merged into its answer, as a newer
   * DingTalk adds fields a client did not expect.
   */
  | "extraFields";

export interface FaultRule {
  /** Which API the rule applies to; "*" = every API call and the file host. */
  api: SandboxApi | "*";
  kind: FaultKind;
  /** Apply to this many matching requests, then retire the rule. Default: every matching request. */
  times?: number;
  /** Apply with this probability (0..1) to each matching request. Default 1. */
  probability?: number;
  latencyMs?: number;
  afterBytes?: number;
  status?: number;
  code?: string;
  message?: string;
  /** File host only: apply only to requests on `resourceUrls[urlIndex]` (to test failing over). */
  urlIndex?: number;
  /**
   * API calls, error-like kinds: the call takes effect first (a link is sent and recorded), then the error is
   * answered, as when DingTalk did the work and its answer was lost or failed.
   */
  afterEffect?: boolean;
  /** extraFields: what is merged into the answer. */
  fields?: Record<string, unknown>;
}

export interface SandboxOptions {
  /** Port to listen on; 0 (default) = ephemeral. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** A folder whose files and subfolders become the space's dentries (parent "0" = the folder). */
  dir?: string;
  appKey?: string; // default "sandbox"
  appSecret?: string; // default "sandbox-secret"
  unionId?: string; // default "sandbox-union"
  spaceId?: string; // default "sandbox-space"
  conversationId?: string; // default "cid-sandbox"
  tokenTtlSeconds?: number; // default 7200
  urlTtlSeconds?: number; // default 900 (expirationSeconds of download info)
  /** Per-connection bandwidth limit on the file host, bytes per second. Default: unlimited. */
  bandwidthBytesPerSecond?: number;
  /** Fault rules active from the start. */
  faults?: FaultRule[];
  /** Extra generated files (added to the generated sample tree, or to `dir`'s tree at the root). */
  generatedFiles?: Array<{ name: string; size: number; parentPath?: string; seed?: string }>;
  /** Clock in ms since the epoch, for tests that move time (token and URL expiry). Default Date.now. */
  now?: () => number;
}

export interface SentLink {
  unionId: string;
  spaceId: string;
  dentryId: string;
  openConversationId: string;
  at: string;
}

/** A handle on a running sandbox. */
export interface Sandbox {
  /** Base URL of the OpenAPI, e.g. "http://127.0.0.1:4010" (use as DINGTALK_API_BASE). */
  url: string;
  port: number;
  /** host:port of the file host (same server), to add to DOWNLOAD_ALLOWED_HOSTS. */
  fileHost: string;
  options: Required<Pick<SandboxOptions, "appKey" | "appSecret" | "unionId" | "spaceId" | "conversationId">>;
  /** Add fault rules at run time (also: POST /__sandbox/faults). */
  addFaults(...rules: FaultRule[]): void;
  /** Remove every fault rule (also: DELETE /__sandbox/faults). */
  clearFaults(): void;
  /** Calls per API since start or the last resetCalls() (also: GET /__sandbox/state). */
  calls(): Record<SandboxApi, number>;
  resetCalls(): void;
  /** Every link sent through sendLink, in order. */
  sentLinks(): SentLink[];
  /** Invalidate every issued access token (the next API call answers 400 InvalidAuthentication). */
  expireTokens(): void;
  /**
   * Add a generated file, or give an existing one (same parent and name) new content and version + 1.
   * Returns its dentry id.
   */
  putGeneratedFile(file: { name: string; size: number; parentPath?: string; seed?: string }): string;
  /** Rename and/or move a file or folder (also: POST /__sandbox/move {from, to}); it keeps its id and version. */
  moveDentry(from: string, to: string): string;
  /** Find a dentry id by its path relative to the space root, e.g. "docs/report.pdf". */
  dentryIdByPath(path: string): string | undefined;
  close(): Promise<void>;
}
