/** The admin endpoints other processes (CLI, chaos tool, benchmark) use. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox/server";
import type { Sandbox } from "../../sandbox/types";
import { call, downloadInfo, drain, fetchFile, storage, union } from "./helpers";

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ faults: [{ api: "listVersions", kind: "systemError" }] });
});
afterAll(() => sb.close());

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sb.url}/__sandbox/${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("admin endpoints", () => {
  it("GET state shows calls, sent links and the active faults (from options too)", async () => {
    sb.resetCalls();
    await call(sb, "GET", `${storage(sb)}?${union(sb)}`);
    const state = await admin("GET", "state");
    expect(state.status).toBe(200);
    expect(state.body.calls).toMatchObject({ token: 1, getSpace: 1, file: 0 });
    expect(state.body.sentLinks).toEqual([]);
    expect(state.body.faults).toEqual([{ api: "listVersions", kind: "systemError", remaining: null }]);
  });

  it("POST faults takes one rule or an array; DELETE removes them all", async () => {
    expect((await admin("POST", "faults", { api: "getSpace", kind: "systemBusy", times: 1 })).status).toBe(
      200,
    );
    const r = await call(sb, "GET", `${storage(sb)}?${union(sb)}`);
    expect([r.status, r.body.code]).toEqual([429, "system.busy"]);
    const added = await admin("POST", "faults", [
      { api: "getSpace", kind: "qpsLimit" },
      { api: "file", kind: "truncate", afterBytes: 3 },
    ]);
    expect(added.body.added).toBe(2);
    expect((await call(sb, "GET", `${storage(sb)}?${union(sb)}`)).status).toBe(403);
    expect((await admin("DELETE", "faults")).status).toBe(200);
    expect((await call(sb, "GET", `${storage(sb)}?${union(sb)}`)).status).toBe(200);
  });

  it("refuses a malformed fault rule with 400 and says why", async () => {
    const bad = await admin("POST", "faults", { api: "getSpace", kind: "meltdown" });
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toContain("kind");
    expect((await admin("POST", "faults", "{not json")).status).toBe(400);
  });

  it("POST move renames a file: same id and version, newest first in listAll; a bad move is refused", async () => {
    const id = sb.putGeneratedFile({ name: "old name.txt", size: 10, parentPath: "moves" });
    const moved = await admin("POST", "move", { from: "moves/old name.txt", to: "moves/sub/new name.txt" });
    expect(moved).toEqual({ status: 200, body: { dentryId: id } });
    expect(sb.dentryIdByPath("moves/sub/new name.txt")).toBe(id);
    expect(sb.dentryIdByPath("moves/old name.txt")).toBeUndefined();
    const query = await call(sb, "POST", `${storage(sb)}/dentries/${id}/query?${union(sb)}`, { option: {} });
    expect(query.body.dentry).toMatchObject({
      id,
      name: "new name.txt",
      path: "/moves/sub/new name.txt",
      version: 1,
    });
    const all = await call(sb, "POST", `${storage(sb)}/dentries/listAll?${union(sb)}`, {
      option: { maxResults: 2, order: "DESC" },
    });
    // Newest first: the moved file and the folder made for it this very moment.
    expect((all.body.dentries as Array<{ id: string }>).map((d) => d.id)).toContain(id);
    // A new file at the old path is another dentry.
    expect(sb.putGeneratedFile({ name: "old name.txt", size: 1, parentPath: "moves" })).not.toBe(id);
    const missing = await admin("POST", "move", { from: "moves/nothing.txt", to: "moves/x.txt" });
    expect(missing.status).toBe(400);
    expect(String(missing.body.message)).toContain("no dentry");
    expect((await admin("POST", "move", { from: "moves/sub" })).status).toBe(400);
  });

  it("POST files adds a generated file, then a new version of it", async () => {
    const first = await admin("POST", "files", {
      name: "upload.bin",
      size: 4096,
      parentPath: "incoming/today",
    });
    const dentryId = String(first.body.dentryId);
    expect(sb.dentryIdByPath("incoming/today/upload.bin")).toBe(dentryId);
    const second = await admin("POST", "files", {
      name: "upload.bin",
      size: 10,
      parentPath: "incoming/today",
    });
    expect(second.body.dentryId).toBe(dentryId);
    const d = await call(sb, "POST", `${storage(sb)}/dentries/${dentryId}/query?${union(sb)}`, {});
    expect(d.body.dentry).toMatchObject({ version: 2, size: 10 });
    expect((await drain(await fetchFile(await downloadInfo(sb, dentryId)))).bytes).toBe(10);
    expect((await admin("POST", "files", { name: "a/b", size: 1 })).status).toBe(400);
    expect((await admin("POST", "files", { name: "x", size: -1 })).status).toBe(400);
  });

  it("POST expire-tokens invalidates issued tokens", async () => {
    const token = (await (
      await fetch(`${sb.url}/v1.0/oauth2/accessToken`, {
        method: "POST",
        body: JSON.stringify({ appKey: "sandbox", appSecret: "sandbox-secret" }),
      })
    ).json()) as { accessToken: string };
    expect((await admin("POST", "expire-tokens")).status).toBe(200);
    const r = await call(sb, "GET", `${storage(sb)}?${union(sb)}`, undefined, {
      "x-acs-dingtalk-access-token": token.accessToken,
    });
    expect(r.body.code).toBe("InvalidAuthentication");
  });

  it("POST reset-calls zeroes the counters; unknown admin paths are 404", async () => {
    await admin("POST", "reset-calls");
    expect(Object.values(sb.calls()).every((n) => n === 0)).toBe(true);
    expect((await admin("GET", "nope")).status).toBe(404);
  });
});
