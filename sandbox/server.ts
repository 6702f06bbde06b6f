/**
 * The sandbox: a local DingTalk server (OpenAPI, file host, admin endpoints) on one node:http server.
 *
 *   const sandbox = await startSandbox();          // sample tree, ephemeral port
 *   process.env.DINGTALK_API_BASE = sandbox.url;
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { ADMIN_PREFIX, handleAdmin } from "./admin";
import * as api from "./api";
import { writeBody } from "./body";
import { faultError } from "./faults";
import { handleFileRequest, isFileHostPath } from "./file-host";
import {
  DingTalkError,
  newRequestIds,
  sendDingTalkError,
  sendJson,
  setRequestIdHeaders,
  sleep,
} from "./http";
import { SandboxState, zeroCalls } from "./state";
import type { Sandbox, SandboxApi, SandboxOptions } from "./types";

interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  api: Exclude<SandboxApi, "file">;
  handler: (r: api.ApiRequest) => Promise<unknown>;
}

const SPACE = "/v1\\.0/storage/spaces/([^/]*)";
const route = (method: Route["method"], path: string, a: Route["api"], handler: Route["handler"]): Route => ({
  method,
  pattern: new RegExp(`^${path}$`),
  api: a,
  handler,
});

const ROUTES: Route[] = [
  route("POST", "/v1\\.0/oauth2/accessToken", "token", api.getAccessToken),
  route("POST", "/v1\\.0/convFile/conversations/files/links/send", "sendLink", api.sendLink),
  route("POST", `${SPACE}/dentries/([^/]*)/downloadInfos/query`, "downloadInfo", api.getFileDownloadInfo),
  route("GET", `${SPACE}/dentries`, "listDentries", api.listDentries),
  route("POST", `${SPACE}/dentries/listAll`, "listAllDentries", api.listAllDentries),
  route("POST", `${SPACE}/dentries/([^/]*)/query`, "getDentry", api.getDentry),
  route("GET", `${SPACE}/dentries/([^/]*)/versions`, "listVersions", api.listDentryVersions),
  route("GET", SPACE, "getSpace", api.getSpace),
];

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function handleApi(state: SandboxState, req: IncomingMessage, res: ServerResponse, url: URL) {
  const ids = newRequestIds();
  setRequestIdHeaders(res, ids);
  let matched: { route: Route; params: string[] } | undefined;
  for (const r of ROUTES) {
    const m = r.method === req.method ? r.pattern.exec(url.pathname) : null;
    if (m) {
      matched = { route: r, params: m.slice(1).map((p) => safeDecode(p)) };
      break;
    }
  }
  if (!matched) {
    return sendDingTalkError(
      res,
      new DingTalkError(404, "InvalidAction.NotFound", `${req.method} ${url.pathname} is not an API`),
      ids.requestId,
    );
  }
  const { route: r, params } = matched;
  state.calls[r.api] += 1;
  try {
    const plan = state.faults.plan(r.api, headerValue(req, "x-sandbox-fault"));
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);
    if (plan.body?.kind === "dropConnection" && !(plan.body.afterBytes ?? 0)) {
      req.socket.destroy();
      return;
    }
    if (plan.answer && !plan.answer.afterEffect) throw faultError(plan.answer);
    if (r.api !== "token" && !state.tokens.isValid(headerValue(req, "x-acs-dingtalk-access-token"))) {
      throw new DingTalkError(400, "InvalidAuthentication", "不合法的access_token");
    }
    if (r.api !== "token") state.refresh();
    const answer = await r.handler({ req, url, params, state });
    const body = plan.extraFields ? { ...(answer as object), ...plan.extraFields } : answer;
    // The call took effect; its answer is the fault's (DingTalk did the work, the answer failed).
    if (plan.answer) throw faultError(plan.answer);
    if (!plan.body) return sendJson(res, 200, body);
    // A body fault on an API answer: the JSON arrives cut short.
    const text = Buffer.from(JSON.stringify(body));
    res.writeHead(200, { "content-type": "application/json;charset=utf-8", "content-length": text.length });
    await writeBody(res, Readable.from([text]), { fault: plan.body });
  } catch (err) {
    if (!(err instanceof DingTalkError)) console.error("sandbox: unexpected error", err);
    const e = err instanceof DingTalkError ? err : new DingTalkError(500, "systemError", String(err));
    if (!res.headersSent) sendDingTalkError(res, e, ids.requestId);
    else res.destroy();
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // malformed escapes fail the id format check later
  }
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const state = new SandboxState(opts);
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const url = new URL(req.url ?? "/", "http://sandbox.local");
    const handled = url.pathname.startsWith(ADMIN_PREFIX)
      ? handleAdmin(state, req, res, url)
      : isFileHostPath(url.pathname)
        ? handleFileRequest(state, req, res, url)
        : handleApi(state, req, res, url);
    handled.catch((err: unknown) => {
      console.error("sandbox: request failed", err);
      res.destroy();
    });
  });
  // A client closing mid-request (e.g. an aborted download) is normal here.
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(state.options.port ?? 0, state.options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host =
    state.options.host === "0.0.0.0" || state.options.host === "::" ? "127.0.0.1" : state.options.host;
  const hostPort = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  state.baseUrl = `http://${hostPort}`;

  const { appKey, appSecret, unionId, spaceId, conversationId } = state.options;
  return {
    url: state.baseUrl,
    port,
    fileHost: hostPort,
    options: { appKey, appSecret, unionId, spaceId, conversationId },
    addFaults: (...rules) => state.faults.add(...rules),
    clearFaults: () => state.faults.clear(),
    calls: () => ({ ...state.calls }),
    resetCalls: () => {
      state.calls = zeroCalls();
    },
    sentLinks: () => [...state.links],
    expireTokens: () => state.tokens.expireAll(),
    putGeneratedFile: (file) => state.putGeneratedFile(file),
    moveDentry: (from, to) => state.moveDentry(from, to),
    dentryIdByPath: (path) => {
      state.refresh();
      const id = state.tree.idOf(path);
      return id === "0" ? undefined : id;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export type { Sandbox, SandboxOptions } from "./types";
