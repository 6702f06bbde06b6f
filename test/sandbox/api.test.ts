import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox/server";
import type { Sandbox } from "../../sandbox/types";
import { call, idOf, storage, union, type WireDentry } from "./helpers";

let clock = Date.UTC(2026, 5, 1);
let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ now: () => clock });
});
afterAll(() => sb.close());

async function tokenCall(appKey: string, appSecret: string) {
  const res = await fetch(`${sb.url}/v1.0/oauth2/accessToken`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ appKey, appSecret }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function listAllPages(parentId: string, params = "", maxResults = 50) {
  const pages: WireDentry[][] = [];
  let nextToken: string | undefined;
  do {
    const q = `${union(sb)}&parentId=${parentId}&maxResults=${maxResults}${params}${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ""}`;
    const r = await call(sb, "GET", `${storage(sb)}/dentries?${q}`);
    expect(r.status).toBe(200);
    pages.push(r.body.dentries as WireDentry[]);
    nextToken = r.body.nextToken as string | undefined;
  } while (nextToken);
  return pages;
}

describe("access token", () => {
  it("issues a token, returns the same one while valid, and a new one after expiry", async () => {
    const first = await tokenCall("sandbox", "sandbox-secret");
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ accessToken: expect.any(String), expireIn: 7200 });
    clock += 60_000;
    const second = await tokenCall("sandbox", "sandbox-secret");
    expect(second.body.accessToken).toBe(first.body.accessToken);
    expect(second.body.expireIn).toBe(7140);
    clock += 7200_000;
    const third = await tokenCall("sandbox", "sandbox-secret");
    expect(third.body.accessToken).not.toBe(first.body.accessToken);
  });

  it("refuses bad credentials with 400 invalidClientIdOrSecret in DingTalk's error shape", async () => {
    const r = await tokenCall("sandbox", "wrong");
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      code: "invalidClientIdOrSecret",
      message: expect.any(String),
      requestid: expect.any(String),
    });
    expect(r.headers.get("x-acs-request-id")).toBe(r.body.requestid);
    expect(r.headers.get("x-acs-trace-id")).toBeTruthy();
  });

  it("requires a valid token on every other API: missing, unknown, expired or revoked", async () => {
    const path = `${storage(sb)}?${union(sb)}`;
    for (const headers of [
      { "x-acs-dingtalk-access-token": "" },
      { "x-acs-dingtalk-access-token": "nope" },
    ]) {
      const r = await call(sb, "GET", path, undefined, headers);
      expect([r.status, r.body.code]).toEqual([400, "InvalidAuthentication"]);
    }
    const stale = (await tokenCall("sandbox", "sandbox-secret")).body.accessToken as string;
    sb.expireTokens();
    const revoked = await call(sb, "GET", path, undefined, { "x-acs-dingtalk-access-token": stale });
    expect([revoked.status, revoked.body.code]).toEqual([400, "InvalidAuthentication"]);
    const fresh = (await tokenCall("sandbox", "sandbox-secret")).body.accessToken as string;
    clock += 7201_000;
    const expired = await call(sb, "GET", path, undefined, { "x-acs-dingtalk-access-token": fresh });
    expect([expired.status, expired.body.code]).toEqual([400, "InvalidAuthentication"]);
    expect((await call(sb, "GET", path)).status).toBe(200); // a fresh token works again
  });
});

describe("storage metadata", () => {
  it("lists the root with DingTalk's dentry fields (minute-precision times, folders without size)", async () => {
    const [root = []] = await listAllPages("0");
    const names = root.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(["报告 2026.pdf", "données.csv", "docs", "many", "media"]));
    const pdf = root.find((d) => d.name === "报告 2026.pdf");
    expect(pdf).toMatchObject({
      spaceId: "sandbox-space",
      parentId: "0",
      type: "FILE",
      size: 300_001,
      path: "/报告 2026.pdf",
      version: 1,
      status: "NORMAL",
      extension: "pdf",
      creatorId: "sandbox-union",
      modifierId: "sandbox-union",
      properties: { readOnly: false },
    });
    expect(pdf?.modifiedTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    expect(pdf?.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    const docs = root.find((d) => d.name === "docs");
    expect(docs?.type).toBe("FOLDER");
    expect(docs && "size" in docs).toBe(false);
  });

  it("paginates a folder of 120 entries in pages of ≤ 50 with no repeats or gaps", async () => {
    const pages = await listAllPages(idOf(sb, "many"));
    expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
    const names = pages.flat().map((d) => d.name);
    expect(new Set(names).size).toBe(120);
    // Default order: modified time, newest first.
    expect(names[0]).toBe("item-120.txt");
  });

  it("orders by NAME ascending when asked, and pages by a smaller maxResults", async () => {
    const pages = await listAllPages(idOf(sb, "many"), "&orderBy=NAME&order=ASC", 7);
    expect(pages).toHaveLength(18);
    const names = pages.flat().map((d) => d.name);
    expect(names.slice(0, 2)).toEqual(["item-001.txt", "item-002.txt"]);
    expect(names).toEqual([...names].sort());
  });

  it("walks nested folders down to the third level", async () => {
    const q1 = idOf(sb, "docs/2026/q1");
    const [entries = []] = await listAllPages(q1);
    expect(entries.map((d) => d.name).sort()).toEqual(["notes.md", "summary.docx"]);
    expect(entries[0]?.parentId).toBe(q1);
    expect(entries.find((d) => d.name === "notes.md")?.path).toBe("/docs/2026/q1/notes.md");
  });

  it("refuses maxResults over 50 and a bad nextToken", async () => {
    const big = await call(sb, "GET", `${storage(sb)}/dentries?${union(sb)}&parentId=0&maxResults=51`);
    expect([big.status, big.body.code]).toEqual([400, "paramError"]);
    const bad = await call(sb, "GET", `${storage(sb)}/dentries?${union(sb)}&parentId=0&nextToken=zzz`);
    expect([bad.status, bad.body.code]).toEqual([400, "paramError"]);
  });

  it("gets one dentry, the space, and a file's versions", async () => {
    const id = idOf(sb, "docs/guide.md");
    const one = await call(sb, "POST", `${storage(sb)}/dentries/${id}/query?${union(sb)}`, { option: {} });
    expect(one.status).toBe(200);
    expect(one.body.dentry).toMatchObject({ id, name: "guide.md", version: 2, type: "FILE" });

    const space = await call(sb, "GET", `${storage(sb)}?${union(sb)}`);
    expect(space.body.space).toMatchObject({
      id: "sandbox-space",
      quota: expect.any(Number),
      usedQuota: expect.any(Number),
    });

    const versions = await call(sb, "GET", `${storage(sb)}/dentries/${id}/versions?${union(sb)}`);
    expect((versions.body.dentries as WireDentry[]).map((d) => d.version)).toEqual([2, 1]);
  });

  it("lists the whole space flat with listAll, in pages", async () => {
    const seen = new Set<string>();
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const r = await call(sb, "POST", `${storage(sb)}/dentries/listAll?${union(sb)}`, {
        option: { maxResults: 50, ...(nextToken ? { nextToken } : {}) },
      });
      expect(r.status).toBe(200);
      for (const d of r.body.dentries as WireDentry[]) seen.add(d.id);
      nextToken = r.body.nextToken as string | undefined;
      pages++;
    } while (nextToken);
    expect(pages).toBeGreaterThan(2);
    expect(seen.has(idOf(sb, "docs/2026/q1/notes.md"))).toBe(true);
    expect(seen.has(idOf(sb, "many/item-077.txt"))).toBe(true);
  });

  it("counts calls per API", async () => {
    sb.resetCalls();
    await call(sb, "GET", `${storage(sb)}?${union(sb)}`);
    const calls = sb.calls();
    expect(calls.getSpace).toBe(1);
    expect(calls.token).toBe(1); // the helper fetched a token
    expect(calls.downloadInfo).toBe(0);
  });
});
