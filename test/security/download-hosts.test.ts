/**
 * Download URLs are fetched only over https from allowed hosts (http only from hosts allowed for http, the
 * local sandbox), through the real archive path: an SQS job into functions/archive/handler.ts, against the
 * sandbox, fauxqs and dynalite.
 *
 * The sandbox's download info always points at its own file host, so the handler reaches it through a small
 * rewriting proxy (DINGTALK_API_BASE = the proxy) that forwards every call and replaces `resourceUrls` in the
 * downloadInfos answer with hostile ones: the instance metadata service (http and https, IPv4 in several
 * spellings, IPv6), look-alike and userinfo hosts, uppercase and trailing-dot spellings, other schemes, the
 * sandbox itself over http when http is not allowed for it, and redirects from an allowed host. (A sandbox
 * option or fault to do this rewriting itself would make the proxy unnecessary: see the report.)
 *
 * Each must be refused before any byte is fetched: the job is dead-lettered as Transfer.hostNotAllowed (or
 * Transfer.sourceRejected for a redirect, which is never followed), no request reaches a hostile origin
 * (watched on undici's diagnostics channel, which every fetch and undici.request publishes to, and by a
 * canary server that counts what reaches it), the sandbox's file host serves nothing, and no object appears.
 */
import diagnostics_channel from "node:diagnostics_channel";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Handler, SQSBatchResponse } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { archiveKey } from "../../lib/archive";
import { BUCKET, invoke, PREFIX, QUEUES, sqsEvent, useStack } from "../support/handler-stack";
import { type RewritingProxy, startRewritingProxy } from "./rewriting-proxy";

let handler: Handler;
let s3: S3Client;
let proxy: RewritingProxy;
let proxyHost: string;
let canary: Server;
let canaryHost: string;
let canaryHits: string[] = [];
let sandboxHost: string;

/** How the proxy rewrites the n-th downloadInfos answer's resourceUrls (undefined: leave it). */
const rewriteUrls = (rewrite: (urls: string[], n: number) => string[] | undefined) => {
  proxy.rewriteDownloadInfo = rewrite;
};

/** Every origin undici was asked to reach (fetch and undici.request both publish here before connecting). */
const requested: string[] = [];
const onRequest = (message: unknown) => {
  const { request: req } = message as { request: { origin?: string | URL; path?: string } };
  requested.push(`${String(req.origin)}${req.path ?? ""}`);
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// Listening before the tests are collected: the hostile URLs name its port.
canary = createServer((req, res) => {
  canaryHits.push(req.url ?? "");
  res.end("canary");
});
canaryHost = await listen(canary);

const stack = useStack({
  sandbox: { generatedFiles: [{ name: "target.bin", size: 6 * 1024 * 1024 + 3, seed: "hosts" }] },
});
beforeAll(async () => {
  sandboxHost = new URL(stack.sandbox.url).host;
  proxy = await startRewritingProxy(sandboxHost);
  proxyHost = proxy.host;
  Object.assign(process.env, {
    DINGTALK_API_BASE: `http://${proxyHost}`,
    DOWNLOAD_ALLOWED_HOSTS: `*.dingtalk.com,*.aliyuncs.com,${sandboxHost},${proxyHost}`,
    DOWNLOAD_ALLOW_HTTP_HOSTS: `${sandboxHost},${proxyHost}`,
  });
  handler = await loadArchive();
  s3 = new S3Client({ endpoint: stack.emulator.address, forcePathStyle: true, region: "us-east-1" });
  diagnostics_channel.subscribe("undici:request:create", onRequest);
});

afterAll(async () => {
  diagnostics_channel.unsubscribe("undici:request:create", onRequest);
  s3?.destroy();
  await proxy?.close();
  canary.closeAllConnections();
  await new Promise((resolve) => canary.close(resolve));
});

beforeEach(() => {
  stack.emulator.reset();
  stack.sandbox.clearFaults();
  stack.sandbox.resetCalls();
  canaryHits = [];
  requested.length = 0;
  proxy.reset();
});

async function loadArchive(): Promise<Handler> {
  vi.resetModules();
  return (await import("../../functions/archive/handler")).handler as Handler;
}

const fileId = () => stack.sandbox.dentryIdByPath("target.bin") as string;
const keyOf = (dentryId: string, version: number, name: string) =>
  archiveKey({ prefix: PREFIX, spaceId: "sandbox-space", dentryId, version, name });

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return false;
    throw error;
  }
}

interface DeadLetter {
  job: { dentryId: string };
  error: { code: string; message: string };
}

/** Run one archive job through the SQS worker; answers its dead letter, if any. */
async function archiveJob(job: Record<string, unknown>, worker = handler): Promise<DeadLetter | undefined> {
  const result = await invoke<SQSBatchResponse>(
    worker,
    sqsEvent([JSON.stringify(job)], `hosts-${Date.now()}`),
  );
  expect(result.batchItemFailures).toEqual([]);
  const dead = stack.messages(QUEUES.archiveDlq) as DeadLetter[];
  expect(dead.length).toBeLessThanOrEqual(1);
  return dead[0];
}

/** Nothing reached a host outside the proxy (DingTalk API) and the emulators: not the canary, not the file host. */
function expectNothingFetched(hostile: string[]) {
  expect(canaryHits).toEqual([]);
  expect(stack.sandbox.calls().file).toBe(0);
  const origins = requested.map((r) => new URL(r).host);
  for (const host of origins) expect([proxyHost], `undici asked for ${host}`).toContain(host);
  for (const url of hostile) {
    let host: string;
    try {
      host = new URL(url).host;
    } catch {
      continue;
    }
    expect(origins).not.toContain(host);
  }
}

const HOSTILE = () => [
  "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
  "https://169.254.169.254/latest/meta-data",
  "HTTP://169.254.169.254/latest/meta-data",
  "http://169.254.169.254./latest/meta-data",
  "http://2852039166/latest/meta-data", // 169.254.169.254 as one decimal number
  "http://0xA9FEA9FE/latest/meta-data", // ... and in hex
  "http://169.254.43518/latest/meta-data", // ... and in the a.b.c form
  "http://[::ffff:169.254.169.254]/latest/meta-data",
  "http://[fd00:ec2::254]/latest/meta-data", // the IPv6 metadata endpoint
  "https://[::1]/",
  `http://[::ffff:127.0.0.1]:${canaryHost.split(":")[1]}/x`,
  `http://${canaryHost}/file`,
  `https://${canaryHost}/file`,
  `http://LOCALHOST:${canaryHost.split(":")[1]}/file`,
  "https://evil.dingtalk.com.attacker.net/f?Expires=1&Signature=x",
  "https://dingtalk.com.attacker.net/f",
  "https://evildingtalk.com/f",
  "https://dingtalk.com/f", // the apex of *.dingtalk.com is not one of its subdomains
  "https://a.dingtalk.com:8443/f", // another port than https's
  "https://x.dingtalk.com@evil.net/",
  "https://x.dingtalk.com:secret@evil.net/",
  "https://user@a.dingtalk.com/f",
  "https://EVIL.NET./f",
  "http://a.dingtalk.com/f", // allowed host, but plain http
  "ftp://a.dingtalk.com/f",
  "file:///etc/passwd",
  "data:text/plain,hello",
  "javascript:alert(1)",
  "gopher://a.dingtalk.com/f",
];

describe("hostile download URLs through the archive worker", () => {
  it.each(HOSTILE().map((url) => [url]))("%s: refused before any byte is fetched", async (url) => {
    rewriteUrls(() => [url]);
    const dentryId = fileId();
    const dead = await archiveJob({ spaceId: "sandbox-space", dentryId });
    expect(dead?.error.code).toBe("Transfer.hostNotAllowed");
    expect(dead?.error.message).toMatch(/download URL/);
    expect(dead?.error.message).not.toMatch(/Signature=|secret/);
    expectNothingFetched([url]);
    expect(await exists(keyOf(dentryId, 1, "target.bin"))).toBe(false);
  });

  it("all of them at once: none is tried", async () => {
    const hostile = HOSTILE();
    rewriteUrls(() => hostile);
    const dead = await archiveJob({ spaceId: "sandbox-space", dentryId: fileId() });
    expect(dead?.error.code).toBe("Transfer.hostNotAllowed");
    expectNothingFetched(hostile);
  });

  it("hostile URLs beside the real one are skipped: the file comes from the allowed host only", async () => {
    const hostile = HOSTILE();
    rewriteUrls((urls) => [...hostile.slice(0, 5), urls[0] as string, ...hostile.slice(5)]);
    const dentryId = fileId();
    expect(await archiveJob({ spaceId: "sandbox-space", dentryId })).toBeUndefined();
    expect(await exists(keyOf(dentryId, 1, "target.bin"))).toBe(true);
    expect(canaryHits).toEqual([]);
    for (const r of requested) expect([proxyHost, sandboxHost]).toContain(new URL(r).host);
    // The watch works: it saw both the DingTalk calls (fetch) and the ranged GETs (undici.request).
    const hosts = new Set(requested.map((r) => new URL(r).host));
    expect(hosts).toEqual(new Set([proxyHost, sandboxHost]));
    expect(stack.sandbox.calls().file).toBeGreaterThan(0);
  });

  it("a redirect from an allowed host is not followed (to the canary or to the metadata service)", async () => {
    for (const to of [`http://${canaryHost}/stolen`, "http://169.254.169.254/latest/meta-data"]) {
      stack.emulator.reset();
      rewriteUrls(() => [`http://${proxyHost}/redirect?to=${encodeURIComponent(to)}`]);
      const dead = await archiveJob({ spaceId: "sandbox-space", dentryId: fileId() });
      expect(dead?.error.code).toBe("Transfer.sourceRejected");
      expect(dead?.error.message).toMatch(/302/);
      expect(canaryHits).toEqual([]);
      for (const r of requested) expect([proxyHost]).toContain(new URL(r).host);
    }
  });

  it("refreshed download info (after a 403 on the file host) is checked again", async () => {
    stack.sandbox.addFaults({ api: "file", kind: "urlExpired", times: 1 });
    rewriteUrls((urls, n) =>
      n === 0 ? urls : [`http://${canaryHost}/after-refresh`, "http://169.254.169.254/"],
    );
    const dentryId = fileId();
    const dead = await archiveJob({ spaceId: "sandbox-space", dentryId });
    expect(proxy.downloadInfoAnswers).toBeGreaterThanOrEqual(2);
    expect(dead?.error.code).toBe("Transfer.hostNotAllowed");
    expect(canaryHits).toEqual([]);
    expect(await exists(keyOf(dentryId, 1, "target.bin"))).toBe(false);
  });

  it("an older version's size probe checks the URL too", async () => {
    const dentryId = stack.sandbox.putGeneratedFile({ name: "versions.bin", size: 1000, seed: "v1" });
    stack.sandbox.putGeneratedFile({ name: "versions.bin", size: 2000, seed: "v2" });
    rewriteUrls(() => [`http://${canaryHost}/probe`]);
    const dead = await archiveJob({ spaceId: "sandbox-space", dentryId, version: 1 });
    expect(dead?.error.code).toBe("Transfer.hostNotAllowed");
    expectNothingFetched([`http://${canaryHost}/probe`]);
  });

  it("the sandbox over plain http is refused when it is allowed but not for http", async () => {
    process.env.DOWNLOAD_ALLOW_HTTP_HOSTS = "";
    try {
      const strict = await loadArchive();
      const dentryId = fileId();
      const dead = await archiveJob({ spaceId: "sandbox-space", dentryId }, strict);
      expect(dead?.error.code).toBe("Transfer.hostNotAllowed");
      expect(dead?.error.message).toMatch(/plain http/);
      expect(stack.sandbox.calls().file).toBe(0);
      expect(await exists(keyOf(dentryId, 1, "target.bin"))).toBe(false);
    } finally {
      process.env.DOWNLOAD_ALLOW_HTTP_HOSTS = `${sandboxHost},${proxyHost}`;
    }
  });
});
