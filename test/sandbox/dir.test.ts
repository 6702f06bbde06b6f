/** A sandbox over a real folder (SANDBOX_DIR): the folder's files and subfolders are the space. */
import { mkdir, mkdtemp, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox/server";
import type { Sandbox } from "../../sandbox/types";
import { call, downloadInfo, fetchFile, idOf, storage, union, type WireDentry } from "./helpers";

let dir: string;
let sb: Sandbox;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sandbox-dir-"));
  await mkdir(join(dir, "reports/2026"), { recursive: true });
  await writeFile(join(dir, "hello.txt"), "hello\n");
  await writeFile(join(dir, "reports/2026/报告.csv"), "a,b\n1,2\n");
  sb = await startSandbox({ dir, generatedFiles: [{ name: "extra.bin", size: 1234 }] });
});
afterAll(async () => {
  await sb.close();
  await rm(dir, { recursive: true, force: true });
});

async function rootNames(): Promise<string[]> {
  const r = await call(sb, "GET", `${storage(sb)}/dentries?${union(sb)}&parentId=0&maxResults=50`);
  return (r.body.dentries as WireDentry[]).map((d) => d.name).sort();
}

describe("a folder on disk as the space", () => {
  it("lists the folder's entries (plus generated files) and serves file contents", async () => {
    expect(await rootNames()).toEqual(["extra.bin", "hello.txt", "reports"]);
    const csv = idOf(sb, "reports/2026/报告.csv");
    const r = await call(
      sb,
      "GET",
      `${storage(sb)}/dentries?${union(sb)}&parentId=${idOf(sb, "reports/2026")}`,
    );
    expect(r.body.dentries).toEqual([
      expect.objectContaining({ id: csv, name: "报告.csv", size: 8, path: "/reports/2026/报告.csv" }),
    ]);
    expect(await (await fetchFile(await downloadInfo(sb, csv))).text()).toBe("a,b\n1,2\n");
    const ranged = await fetchFile(await downloadInfo(sb, csv), { range: "bytes=2-4" });
    expect([ranged.status, await ranged.text()]).toEqual([206, "b\n1"]);
  });

  it("keeps dentry ids stable across restarts", async () => {
    const again = await startSandbox({ dir });
    try {
      expect(again.dentryIdByPath("reports/2026/报告.csv")).toBe(sb.dentryIdByPath("reports/2026/报告.csv"));
    } finally {
      await again.close();
    }
  });

  it("sees edits: a changed file gets a new version, and the old signed URL stops working", async () => {
    const id = idOf(sb, "hello.txt");
    const old = await downloadInfo(sb, id);
    await writeFile(join(dir, "hello.txt"), "hello again\n");
    await utimes(join(dir, "hello.txt"), new Date(), new Date(Date.now() + 5000));
    const d = await call(sb, "POST", `${storage(sb)}/dentries/${id}/query?${union(sb)}`, {});
    expect(d.body.dentry).toMatchObject({ version: 2, size: 12 });
    expect((await fetchFile(old)).status).toBe(404);
    expect(await (await fetchFile(await downloadInfo(sb, id))).text()).toBe("hello again\n");
    const v1 = await call(sb, "POST", `${storage(sb)}/dentries/${id}/downloadInfos/query?${union(sb)}`, {
      option: { version: 1 },
    });
    expect([v1.status, v1.body.code]).toEqual([400, "paramError"]);
  });

  it("sees additions and removals, and keeps generated files", async () => {
    await writeFile(join(dir, "new.md"), "# new\n");
    await unlink(join(dir, "hello.txt"));
    expect(await rootNames()).toEqual(["extra.bin", "new.md", "reports"]);
  });
});
