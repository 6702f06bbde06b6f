/** The CLI's progress line, tested without a terminal. */
import { describe, expect, it } from "vitest";
import { formatBytes, formatProgress } from "../../lib/archive";

const MiB = 1024 * 1024;

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [120 * MiB, "120.0 MiB"],
    [5 * 1024 ** 3, "5.0 GiB"],
    [3 * 1024 ** 5, "3072.0 TiB"],
  ])("%i → %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe("formatProgress", () => {
  const progress = (bytesDone: number, partsDone: number) => ({
    bytesDone,
    partsDone,
    partsTotal: 24,
    bytesPerSecond: 12.5 * MiB,
  });

  it("shows bar, percent, bytes, rate and parts", () => {
    expect(formatProgress(progress(60 * MiB, 12), 120 * MiB, 10)).toBe(
      "[#####-----]  50.0%  60.0 MiB/120.0 MiB  12.5 MiB/s  parts 12/24",
    );
  });

  it("is full at the end and never overflows", () => {
    expect(formatProgress(progress(120 * MiB, 24), 120 * MiB, 4)).toMatch(/^\[####\] 100\.0% /);
    expect(formatProgress(progress(130 * MiB, 24), 120 * MiB, 4)).toMatch(/^\[####\] 100\.0% /);
    expect(formatProgress(progress(0, 0), 0, 4)).toMatch(/^\[####\] 100\.0% /);
  });
});
