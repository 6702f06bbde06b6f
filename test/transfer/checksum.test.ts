import { randomBytes } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import * as checksum from "../../lib/transfer/index.js";

/** Bit-by-bit CRC-64/NVME straight from its definition: slow, obviously right, an independent oracle. */
function referenceCrc64(data: Uint8Array): bigint {
  let crc = 0xffff_ffff_ffff_ffffn;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  return crc ^ 0xffff_ffff_ffff_ffffn;
}
const reference: Record<checksum.ChecksumAlgorithm, (d: Uint8Array) => bigint> = {
  CRC32: (d) => BigInt(zlibCrc32(d) >>> 0),
  CRC64NVME: referenceCrc64,
};
const algorithms: checksum.ChecksumAlgorithm[] = ["CRC32", "CRC64NVME"];
const check = Buffer.from("123456789");

describe("CRC values", () => {
  it("match the published check values for '123456789'", () => {
    expect(checksum.crcOf("CRC32", check)).toBe(0xcbf43926n);
    expect(checksum.crcOf("CRC64NVME", check)).toBe(0xae8b14860a799888n);
  });

  it("are 0 for no bytes", () => {
    for (const a of algorithms) expect(checksum.crcOf(a, new Uint8Array(0))).toBe(0n);
  });

  it.each(algorithms)("%s matches the reference for every length 0..64 and unaligned views", (a) => {
    const pool = randomBytes(4096);
    for (let len = 0; len <= 64; len++) {
      for (const offset of [0, 1, 2, 3, 5]) {
        const view = pool.subarray(offset, offset + len);
        expect(checksum.crcOf(a, view), `len ${len} offset ${offset}`).toBe(reference[a](view));
      }
    }
    const big = pool.subarray(3, 4000);
    expect(checksum.crcOf(a, big)).toBe(reference[a](big));
  });

  it.each(algorithms)("%s is the same however the bytes are chunked", (a) => {
    const data = randomBytes(100_003);
    const whole = checksum.crcOf(a, data);
    for (const chunk of [1, 3, 7, 8, 13, 4096, 65_537]) {
      const crc = checksum.createCrc(a);
      for (let i = 0; i < data.length; i += chunk) crc.update(data.subarray(i, i + chunk));
      expect(crc.value(), `chunk ${chunk}`).toBe(whole);
    }
  });
});

describe("CRC combination", () => {
  it.each(algorithms)("%s: crc(A‖B) from crc(A), crc(B), |B|", (a) => {
    const data = randomBytes(50_000);
    for (const cut of [0, 1, 7, 8, 9, 4096, 49_999, 50_000]) {
      const left = data.subarray(0, cut);
      const right = data.subarray(cut);
      expect(
        checksum.combineCrc(a, checksum.crcOf(a, left), checksum.crcOf(a, right), right.length),
        `cut ${cut}`,
      ).toBe(checksum.crcOf(a, data));
    }
  });

  it.each(algorithms)("%s: parts of any sizes combine to the whole object's CRC", (a) => {
    const data = randomBytes(300_000);
    const cuts = [0, 1, 2, 1000, 65_536, 65_537, 200_000, 299_999, 300_000];
    const parts = cuts.slice(1).map((end, i) => {
      const bytes = data.subarray(cuts[i], end);
      return { crc: checksum.crcOf(a, bytes), length: bytes.length };
    });
    expect(checksum.combineParts(a, parts)).toBe(checksum.crcOf(a, data));
  });

  it("combines 10,000 parts of a 5 TiB file quickly", () => {
    const parts = Array.from({ length: 10_000 }, (_, i) => ({ crc: BigInt(i), length: 525 * 1024 * 1024 }));
    const started = performance.now();
    for (const a of algorithms) checksum.combineParts(a, parts);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("S3 wire form", () => {
  it("is base64 of the big-endian bytes, and reads back", () => {
    expect(checksum.crcToBase64("CRC32", 0xcbf43926n)).toBe(
      Buffer.from([0xcb, 0xf4, 0x39, 0x26]).toString("base64"),
    );
    expect(checksum.crcToBase64("CRC32", 0n)).toBe("AAAAAA==");
    for (const a of algorithms) {
      const v = checksum.crcOf(a, check);
      expect(checksum.crcFromBase64(a, checksum.crcToBase64(a, v))).toBe(v);
    }
    expect(checksum.crcToBase64("CRC64NVME", 0xae8b14860a799888n)).toBe("rosUhgp5mIg=");
  });

  it("refuses a checksum of the wrong width", () => {
    expect(() => checksum.crcFromBase64("CRC64NVME", "AAAAAA==")).toThrow(/not a CRC64NVME/);
  });
});
