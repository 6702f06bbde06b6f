import { describe, expect, it } from "vitest";
import {
  DEFAULT_PART_SIZE,
  effectivePartSize,
  type PartPlan,
  planParts,
  S3_MAX_PARTS,
  S3_MIN_PART_SIZE,
  TransferError,
} from "../../lib/transfer/index.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

/** Every invariant a plan must satisfy, whatever the inputs. Plain checks: a 5 TiB plan has 10,000 parts. */
function checkInvariants(plan: PartPlan, size: number, requested: number) {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  check(plan.size === size, "size");
  check(plan.partSize >= requested, "part size below the requested one");
  check(
    plan.partSize % (1024 * 1024) === 0 || plan.partSize === requested,
    "grown part size not a MiB multiple",
  );
  check(plan.parts.length <= S3_MAX_PARTS, "more than 10,000 parts");
  check(plan.parts.length === Math.ceil(size / plan.partSize), "part count");
  check(plan.mode === (plan.parts.length <= 1 ? "single" : "multipart"), "mode");
  let next = 0;
  plan.parts.forEach((p, i) => {
    const last = i === plan.parts.length - 1;
    check(p.partNumber === i + 1, `part ${i + 1} number`);
    check(p.start === next, `part ${i + 1} not contiguous`);
    check(p.end === p.start + p.length - 1 && p.length > 0, `part ${i + 1} bounds`);
    check(last || (p.length === plan.partSize && p.length >= S3_MIN_PART_SIZE), `part ${i + 1} length`);
    check(!last || p.length <= plan.partSize, "last part too long");
    next = p.end + 1;
  });
  check(next === size, "parts do not cover the file");
  expect(problems, `size ${size}, requested ${requested}`).toEqual([]);
}

describe("planParts", () => {
  it("0 bytes: a single PutObject with no range", () => {
    const plan = planParts(0, 8 * MiB);
    expect(plan).toEqual({ size: 0, partSize: 8 * MiB, mode: "single", parts: [] });
  });

  it("1 byte: one part of one byte", () => {
    expect(planParts(1)).toEqual({
      size: 1,
      partSize: DEFAULT_PART_SIZE,
      mode: "single",
      parts: [{ partNumber: 1, start: 0, end: 0, length: 1 }],
    });
  });

  it("exactly one part: still a single PutObject", () => {
    const plan = planParts(8 * MiB, 8 * MiB);
    expect(plan.mode).toBe("single");
    expect(plan.parts).toEqual([{ partNumber: 1, start: 0, end: 8 * MiB - 1, length: 8 * MiB }]);
  });

  it("one part + 1 byte: two parts, the last of one byte", () => {
    const plan = planParts(8 * MiB + 1, 8 * MiB);
    expect(plan.mode).toBe("multipart");
    expect(plan.parts).toEqual([
      { partNumber: 1, start: 0, end: 8 * MiB - 1, length: 8 * MiB },
      { partNumber: 2, start: 8 * MiB, end: 8 * MiB, length: 1 },
    ]);
  });

  it("40 MiB at 5 MiB: eight equal parts", () => {
    const plan = planParts(40 * MiB, 5 * MiB);
    expect(plan.parts).toHaveLength(8);
    checkInvariants(plan, 40 * MiB, 5 * MiB);
  });

  it("exactly 10,000 parts at the requested size keeps it", () => {
    const plan = planParts(10_000 * 8 * MiB, 8 * MiB);
    expect(plan.partSize).toBe(8 * MiB);
    expect(plan.parts).toHaveLength(10_000);
  });

  it("one byte over 10,000 parts grows the part size by a MiB", () => {
    const plan = planParts(10_000 * 8 * MiB + 1, 8 * MiB);
    expect(plan.partSize).toBe(9 * MiB);
    checkInvariants(plan, 10_000 * 8 * MiB + 1, 8 * MiB);
  });

  it("5 TiB (S3's maximum object): 525 MiB parts, at most 10,000 of them", () => {
    const plan = planParts(5 * TiB, 8 * MiB);
    expect(plan.partSize).toBe(525 * MiB); // ceil(5 TiB / 10,000) = 524.288 MiB, rounded up to a MiB
    expect(plan.parts).toHaveLength(Math.ceil((5 * TiB) / (525 * MiB)));
    checkInvariants(plan, 5 * TiB, 8 * MiB);
  });

  it("a requested size larger than needed wins over the growth", () => {
    expect(effectivePartSize(100 * GiB, 64 * MiB)).toBe(64 * MiB);
    expect(effectivePartSize(1 * TiB, 64 * MiB)).toBe(105 * MiB);
  });

  it("keeps every invariant over a sweep of sizes and part sizes", () => {
    const sizes = [
      0,
      1,
      2,
      5 * MiB - 1,
      5 * MiB,
      5 * MiB + 1,
      16 * MiB - 1,
      16 * MiB,
      16 * MiB + 1,
      123_456_789,
    ];
    for (const k of [1, 9_999, 10_000, 10_001]) sizes.push(k * 5 * MiB - 1, k * 5 * MiB, k * 5 * MiB + 1);
    sizes.push(5 * TiB - 1, 5 * TiB);
    for (const requested of [5 * MiB, 5 * MiB + 1, 8 * MiB, 100 * MiB, 5 * GiB]) {
      for (const size of sizes) checkInvariants(planParts(size, requested), size, requested);
    }
  });

  it("refuses what S3 cannot store or split", () => {
    const bad: Array<[number, number]> = [
      [-1, 8 * MiB],
      [1.5, 8 * MiB],
      [Number.NaN, 8 * MiB],
      [5 * TiB + 1, 8 * MiB],
      [100, 5 * MiB - 1],
      [100, 5 * GiB + 1],
      [100, 6.5 * MiB + 0.5],
    ];
    for (const [size, part] of bad) {
      expect(() => planParts(size, part)).toThrow(TransferError);
      try {
        planParts(size, part);
      } catch (err) {
        expect((err as TransferError).reason).toBe("invalidInput");
      }
    }
  });
});
