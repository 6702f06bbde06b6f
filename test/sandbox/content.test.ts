import { describe, expect, it } from "vitest";
import { generatedChunks, generatedStream, sha256OfGenerated, sha256OfStream } from "../../sandbox/content";

const whole = (seed: string, size: number, start?: number, end?: number) =>
  Buffer.concat([...generatedChunks(seed, size, start, end)]);

describe("generated content", () => {
  it("is deterministic per seed and differs between seeds", () => {
    expect(whole("a", 5000).equals(whole("a", 5000))).toBe(true);
    expect(whole("a", 5000).equals(whole("b", 5000))).toBe(false);
  });

  it("serves any range, aligned or not, equal to the slice of the whole", () => {
    const size = 3 * 1024 * 1024 + 17;
    const all = whole("seek", size);
    for (const [s, e] of [
      [0, 0],
      [1, 15],
      [15, 16],
      [17, 1024 * 1024 + 3],
      [size - 1, size - 1],
      [1024 * 1024 - 1, 2 * 1024 * 1024 + 1],
    ] as const) {
      expect(whole("seek", size, s, e).equals(all.subarray(s, e + 1)), `${s}-${e}`).toBe(true);
    }
  });

  it("has a stream, a hash and a stream hash that agree", async () => {
    const size = 2 * 1024 * 1024 + 5;
    const viaStream = await sha256OfStream(generatedStream("h", size));
    expect(viaStream.bytes).toBe(size);
    expect(await sha256OfGenerated("h", size)).toBe(viaStream.sha256);
  });

  it("handles an empty file and rejects bad ranges", async () => {
    expect((await sha256OfStream(generatedStream("e", 0))).bytes).toBe(0);
    expect(() => whole("x", 10, 5, 10)).toThrow(RangeError);
  });

  it("reaches offsets beyond 4 GiB without producing what lies before", () => {
    const size = 5 * 1024 ** 3;
    const tail = whole("big", size, size - 100, size - 1);
    expect(tail.length).toBe(100);
    // Block-aligned and unaligned starts agree on the overlap.
    expect(whole("big", size, size - 96, size - 1).equals(tail.subarray(4))).toBe(true);
  });
});
