/**
 * The arithmetic behind the archive worker's memorySize (bench/worker-size.ts), with fixed figures: Lambda's
 * CPU share grows with memory (1,769 MB = one vCPU), so a CPU cost in s/GiB sets the MiB/s each size allows;
 * the size must keep up with a 90 MB/s network and hold the peak RSS within 60 % of its memory.
 * With 90 MB/s = 85.8 MiB/s: 512 MB keeps up up to 3.45 CPU s/GiB, 1024 MB up to 6.91, 1769 MB up to 11.9.
 */
import { describe, expect, it } from "vitest";
import { sizeWorker, workerSizeTable } from "../../bench/worker-size.js";

describe("sizeWorker", () => {
  it("picks 512 MB, the cheapest size, when its CPU share keeps up and the RSS fits", () => {
    const s = sizeWorker(2, 150, "fixed");
    expect(s.cheapest).toBe(512);
    expect(s.sizes.map((z) => [z.memoryMb, z.keepsUp, z.rssFits])).toEqual([
      [512, true, true],
      [1024, true, true],
      [1769, true, true],
    ]);
    const [small] = s.sizes;
    expect(small?.vcpu).toBeCloseTo(512 / 1769, 6);
    // 0.289 vCPU ÷ 2 CPU s/GiB = 0.145 GiB/s = 148 MiB/s.
    expect(small?.cpuMibps).toBeCloseTo(148.2, 1);
    // Network-bound at both speeds: 60 MB/s = 57.2 MiB/s → 17.9 s per GiB × 0.5 GB = 8.9 GB-s.
    expect(small?.atNetwork.map((a) => a.networkMbps)).toEqual([60, 90]);
    expect(small?.atNetwork[0]?.mibps).toBeCloseTo(57.22, 2);
    expect(small?.atNetwork[0]?.gbSecondsPerGiB).toBeCloseTo(8.95, 2);
    expect(small?.atNetwork[1]?.gbSecondsPerGiB).toBeCloseTo(5.97, 2);
    // Twice the memory at the same network-bound speed costs twice as much.
    expect(s.sizes[1]?.atNetwork[1]?.gbSecondsPerGiB).toBeCloseTo(2 * 5.97, 1);
  });

  it("picks 1024 MB when the CPU cost is too high for 512 MB to keep up with 90 MB/s", () => {
    const s = sizeWorker(4, 150, "fixed");
    expect(s.sizes[0]).toMatchObject({ memoryMb: 512, keepsUp: false, rssFits: true });
    // CPU-bound at 512 MB: 74.1 MiB/s, below 90 MB/s but above 60 MB/s.
    expect(s.sizes[0]?.cpuMibps).toBeCloseTo(74.1, 1);
    expect(s.sizes[0]?.atNetwork[0]?.mibps).toBeCloseTo(57.22, 2);
    expect(s.sizes[0]?.atNetwork[1]?.mibps).toBeCloseTo(74.1, 1);
    expect(s.cheapest).toBe(1024);
  });

  it("keeps the boundary: 3.45 CPU s/GiB still keeps up at 512 MB, 3.46 does not", () => {
    expect(sizeWorker(3.45, 150, "fixed").cheapest).toBe(512);
    expect(sizeWorker(3.46, 150, "fixed").cheapest).toBe(1024);
  });

  it("picks a larger size when the peak RSS is over 60 % of 512 MB (307 MiB)", () => {
    expect(sizeWorker(2, 307, "fixed").cheapest).toBe(512);
    const s = sizeWorker(2, 400, "fixed");
    expect(s.sizes.map((z) => z.rssFits)).toEqual([false, true, true]);
    expect(s.cheapest).toBe(1024);
    // Over 60 % of 1024 MB (614 MiB) too: only a full vCPU's memory holds it.
    expect(sizeWorker(2, 700, "fixed").cheapest).toBe(1769);
  });

  it("picks none when no size both keeps up and fits", () => {
    expect(sizeWorker(12, 150, "fixed").cheapest).toBeUndefined();
    expect(sizeWorker(2, 1100, "fixed").cheapest).toBeUndefined();
  });

  it("marks the deployed size in the table", () => {
    const table = workerSizeTable(sizeWorker(4, 400, "fixed"), 512);
    const rows = table.split("\n").slice(2);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^\| 512 \(deployed\) \| 0\.29 \| 74\.1 \|.*\| no \| no \(400 of 512\) \|$/);
    expect(rows[1]).toMatch(/^\| 1024 \| 0\.58 \|.*\| yes \| yes \(400 of 1024\) \|$/);
  });
});
