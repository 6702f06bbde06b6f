/** Bandwidth limiting and memory use on large files (timing-sensitive, so kept bounded and loose). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox/server";
import type { Sandbox } from "../../sandbox/types";
import { bodyOf, downloadInfo, fetchFile } from "./helpers";

const MiB = 1024 * 1024;

describe("bandwidth limit", () => {
  const rate = 8 * MiB;
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ bandwidthBytesPerSecond: rate });
  });
  afterAll(() => sb.close());

  it("paces a download at the configured rate (8 MiB/s over ~1.5 s)", async () => {
    const id = sb.putGeneratedFile({ name: "paced.bin", size: 32 * MiB });
    const info = await downloadInfo(sb, id);
    const want = 12 * MiB;
    const res = await fetchFile(info, { range: `bytes=0-${want - 1}` });
    const t0 = performance.now();
    let bytes = 0;
    for await (const chunk of bodyOf(res)) bytes += chunk.length;
    const seconds = (performance.now() - t0) / 1000;
    expect(bytes).toBe(want);
    const measured = bytes / seconds;
    // Never faster than the limit (plus one burst slice); slower only if the machine is busy.
    expect(measured).toBeLessThan(rate * 1.08);
    expect(measured).toBeGreaterThan(rate * 0.5);
  });

  it("limits each connection separately", async () => {
    const id = sb.putGeneratedFile({ name: "paced2.bin", size: 8 * MiB });
    const info = await downloadInfo(sb, id);
    const t0 = performance.now();
    const sizes = await Promise.all(
      [0, 1].map(async (i) => {
        const res = await fetchFile(info, { range: `bytes=${i * 4 * MiB}-${(i + 1) * 4 * MiB - 1}` }, i);
        let n = 0;
        for await (const chunk of bodyOf(res)) n += chunk.length;
        return n;
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    expect(sizes).toEqual([4 * MiB, 4 * MiB]);
    // Two connections at 8 MiB/s each move 8 MiB in ~0.5 s, not ~1 s.
    expect(seconds).toBeGreaterThan(0.4);
    expect(seconds).toBeLessThan(0.9);
  });
});

describe("memory", () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ generatedFiles: [{ name: "huge.bin", size: 512 * MiB, parentPath: "big" }] });
  });
  afterAll(() => sb.close());

  it("streams a 512 MiB file without RSS growing anywhere near its size", async () => {
    const id = sb.dentryIdByPath("big/huge.bin") ?? "";
    const info = await downloadInfo(sb, id);
    const before = process.memoryUsage().rss;
    let peak = before;
    let bytes = 0;
    let n = 0;
    for await (const chunk of bodyOf(await fetchFile(info))) {
      bytes += chunk.length;
      if (++n % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(bytes).toBe(512 * MiB);
    // Server and client share this process; both together must stay far below the file size.
    expect(peak - before).toBeLessThan(128 * MiB);
  });
});
