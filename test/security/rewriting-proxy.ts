/**
 * A DingTalk API in front of the sandbox that says what a compromised or spoofed DingTalk could say: it
 * forwards every call to the sandbox and lets a test rewrite two answers on the way back — the download
 * info's `resourceUrls`, and a dentry (getDentry, e.g. a hostile name). `GET /redirect?to=X` answers a 302
 * to X, for download URLs that redirect. Point DINGTALK_API_BASE at `url`.
 *
 * Why a proxy: the sandbox is a faithful DingTalk and always points download info at its own file host and
 * answers its own names. A sandbox option (or fault kind) to rewrite them would make this unnecessary.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RewritingProxy {
  /** host:port, e.g. to add to DOWNLOAD_ALLOWED_HOSTS. */
  host: string;
  url: string;
  /** Rewrite the n-th downloadInfos answer's resourceUrls (return undefined to leave it). */
  rewriteDownloadInfo: ((urls: string[], n: number) => string[] | undefined) | undefined;
  /** Rewrite getDentry answers' dentry (return undefined to leave it). */
  rewriteDentry: ((dentry: Record<string, unknown>) => Record<string, unknown> | undefined) | undefined;
  /** downloadInfos answers so far. */
  downloadInfoAnswers: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startRewritingProxy(target: string): Promise<RewritingProxy> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const proxy: RewritingProxy = {
    host,
    url: `http://${host}`,
    rewriteDownloadInfo: undefined,
    rewriteDentry: undefined,
    downloadInfoAnswers: 0,
    reset() {
      proxy.rewriteDownloadInfo = undefined;
      proxy.rewriteDentry = undefined;
      proxy.downloadInfoAnswers = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  const rewrite = (pathname: string, body: Buffer): Buffer => {
    if (/\/downloadInfos\/query$/.test(pathname)) {
      const info = JSON.parse(body.toString("utf8"));
      const urls = proxy.rewriteDownloadInfo?.(
        info.headerSignatureInfo.resourceUrls,
        proxy.downloadInfoAnswers++,
      );
      if (urls) info.headerSignatureInfo.resourceUrls = urls;
      return Buffer.from(JSON.stringify(info));
    }
    if (/\/dentries\/[^/]+\/query$/.test(pathname) && proxy.rewriteDentry) {
      const answer = JSON.parse(body.toString("utf8"));
      answer.dentry = proxy.rewriteDentry(answer.dentry) ?? answer.dentry;
      return Buffer.from(JSON.stringify(answer));
    }
    return body;
  };

  server.on("request", async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    if (url.pathname === "/redirect") {
      res.writeHead(302, { location: url.searchParams.get("to") ?? "/" });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const upstream = request(`http://${target}${req.url}`, { method: req.method, headers: req.headers });
    upstream.on("error", () => res.destroy());
    upstream.on("response", async (answer) => {
      const parts: Buffer[] = [];
      for await (const chunk of answer) parts.push(chunk as Buffer);
      const original = Buffer.concat(parts);
      const body = answer.statusCode === 200 ? rewrite(url.pathname, original) : original;
      const headers = { ...answer.headers, "content-length": String(body.length) };
      delete headers["transfer-encoding"];
      res.writeHead(answer.statusCode ?? 502, headers);
      res.end(body);
    });
    upstream.end(Buffer.concat(chunks));
  });
  return proxy;
}
