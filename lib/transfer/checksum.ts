/**
 * CRC checksums as S3 defines them for full-object checksums, computed while the bytes stream through,
 * plus CRC combination so parts finishing in any order still give the whole object's CRC:
 * crc(A‖B) = crc(A)·x^(8·|B|) mod P ⊕ crc(B) (the zlib crc32_combine identity; it holds for any reflected
 * CRC whose init and final xor are all ones, which both CRC-32 and CRC-64/NVME are).
 *
 * Speed (measured on this project's 2-core dev box, 64 MiB of random bytes): CRC-32 via node:zlib ≈ 4.5 GB/s,
 * CRC-64/NVME in JS (slicing-by-8 on 32-bit words) ≈ 0.75 GB/s
 * (the SDK's own JS CRC-64 ≈ 0.38 GB/s). Hence CRC32 is the engine's default; CRC64NVME is available.
 */
import { endianness } from "node:os";
import { crc32 as zlibCrc32 } from "node:zlib";

export type ChecksumAlgorithm = "CRC32" | "CRC64NVME";
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ["CRC32", "CRC64NVME"];

/** A CRC being computed over a stream of chunks. */
export interface RunningCrc {
  update(chunk: Uint8Array): void;
  /** The CRC of everything so far (final form, as S3 shows it), as an unsigned integer. */
  value(): bigint;
}

const WIDTH: Record<ChecksumAlgorithm, number> = { CRC32: 32, CRC64NVME: 64 };
/** Reflected polynomials. */
const POLY: Record<ChecksumAlgorithm, bigint> = { CRC32: 0xedb88320n, CRC64NVME: 0x9a6c9329ac4bc9b5n };

export function createCrc(algorithm: ChecksumAlgorithm): RunningCrc {
  return algorithm === "CRC32" ? new Crc32() : new Crc64Nvme();
}

/** The CRC of one buffer. */
export function crcOf(algorithm: ChecksumAlgorithm, data: Uint8Array): bigint {
  const crc = createCrc(algorithm);
  crc.update(data);
  return crc.value();
}

class Crc32 implements RunningCrc {
  private crc = 0;
  update(chunk: Uint8Array): void {
    this.crc = zlibCrc32(chunk, this.crc);
  }
  value(): bigint {
    return BigInt(this.crc >>> 0);
  }
}

// CRC-64/NVME tables for slicing-by-8, each 64-bit entry split in two 32-bit halves (hi, lo) because
// bit operations on Numbers are 32-bit and BigInt per byte would be ~50× slower.
type Tables8 = [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];
const LITTLE_ENDIAN = endianness() === "LE";
const EMPTY_WORDS = new Uint32Array(0);
const C64_HI: Uint32Array[] = [];
const C64_LO: Uint32Array[] = [];
function crc64Tables(): void {
  if (C64_HI.length > 0) return;
  const poly = POLY.CRC64NVME;
  const t0 = new Array<bigint>(256);
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let j = 0; j < 8; j++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t0[i] = c;
  }
  let prev = t0;
  for (let k = 0; k < 8; k++) {
    const hi = new Uint32Array(256);
    const lo = new Uint32Array(256);
    const next = new Array<bigint>(256);
    for (let i = 0; i < 256; i++) {
      const v =
        k === 0
          ? (t0[i] as bigint)
          : ((prev[i] as bigint) >> 8n) ^ (t0[Number((prev[i] as bigint) & 0xffn)] as bigint);
      next[i] = v;
      hi[i] = Number(v >> 32n);
      lo[i] = Number(v & 0xffffffffn);
    }
    C64_HI.push(hi);
    C64_LO.push(lo);
    prev = next;
  }
}

class Crc64Nvme implements RunningCrc {
  // Register (pre-final-xor), split in halves.
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  constructor() {
    crc64Tables();
  }

  update(data: Uint8Array): void {
    const [h0, h1, h2, h3, h4, h5, h6, h7] = C64_HI as Tables8;
    const [l0, l1, l2, l3, l4, l5, l6, l7] = C64_LO as Tables8;
    let hi = this.hi;
    let lo = this.lo;
    const len = data.length;
    let i = 0;
    // Bytes one at a time until 4-byte aligned, so the bulk can be read as 32-bit words (2× faster than bytes).
    if (LITTLE_ENDIAN) {
      for (; i < len && ((data.byteOffset + i) & 3) !== 0; i++) {
        const idx = (lo ^ (data[i] as number)) & 0xff;
        lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ (l0[idx] as number);
        hi = (hi >>> 8) ^ (h0[idx] as number);
      }
      const pairs = Math.floor((len - i) / 8);
      // (A view must start aligned even when empty: skip it when there are no whole words.)
      const words = pairs > 0 ? new Uint32Array(data.buffer, data.byteOffset + i, pairs * 2) : EMPTY_WORDS;
      // Slicing-by-8: xor 8 bytes into the register, then one table lookup per byte.
      for (let j = 0; j < words.length; j += 2) {
        const x = lo ^ (words[j] as number);
        const y = hi ^ (words[j + 1] as number);
        const a = x & 0xff;
        const b = (x >>> 8) & 0xff;
        const c = (x >>> 16) & 0xff;
        const d = x >>> 24;
        const e = y & 0xff;
        const f = (y >>> 8) & 0xff;
        const g = (y >>> 16) & 0xff;
        const h = y >>> 24;
        hi = (h7[a] as number) ^ (h6[b] as number) ^ (h5[c] as number) ^ (h4[d] as number);
        hi ^= (h3[e] as number) ^ (h2[f] as number) ^ (h1[g] as number) ^ (h0[h] as number);
        lo = (l7[a] as number) ^ (l6[b] as number) ^ (l5[c] as number) ^ (l4[d] as number);
        lo ^= (l3[e] as number) ^ (l2[f] as number) ^ (l1[g] as number) ^ (l0[h] as number);
      }
      i += pairs * 8;
    }
    for (; i < len; i++) {
      const idx = (lo ^ (data[i] as number)) & 0xff;
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ (l0[idx] as number);
      hi = (hi >>> 8) ^ (h0[idx] as number);
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }

  value(): bigint {
    return (BigInt((this.hi ^ 0xffffffff) >>> 0) << 32n) | BigInt((this.lo ^ 0xffffffff) >>> 0);
  }
}

// --- combination (GF(2) polynomial arithmetic on reflected CRCs, after zlib's multmodp / x2nmodp) ---

class Combiner {
  private readonly top: bigint;
  private readonly poly: bigint;
  /** x^(2^k) mod P for k = 0..; grown on demand. */
  private readonly x2n: bigint[];
  /** x^(8·len) mod P by len: most parts share one length, so this is computed once per transfer. */
  private readonly byLength = new Map<number, bigint>();

  constructor(algorithm: ChecksumAlgorithm) {
    const width = WIDTH[algorithm];
    this.top = 1n << BigInt(width - 1);
    this.poly = POLY[algorithm];
    this.x2n = [this.top >> 1n]; // x^1
  }

  /** a·b mod P, both in reflected representation. */
  private mult(a: bigint, b: bigint): bigint {
    let m = this.top;
    let p = 0n;
    let bb = b;
    for (;;) {
      if (a & m) {
        p ^= bb;
        if ((a & (m - 1n)) === 0n) break;
      }
      m >>= 1n;
      bb = bb & 1n ? (bb >> 1n) ^ this.poly : bb >> 1n;
    }
    return p;
  }

  private x2nAt(k: number): bigint {
    while (this.x2n.length <= k) {
      const last = this.x2n[this.x2n.length - 1] as bigint;
      this.x2n.push(this.mult(last, last));
    }
    return this.x2n[k] as bigint;
  }

  /** x^(8·len) mod P. */
  private shiftFor(len: number): bigint {
    const cached = this.byLength.get(len);
    if (cached !== undefined) return cached;
    let p = this.top; // x^0
    let n = BigInt(len);
    let k = 3; // 8·len = len·2^3
    while (n > 0n) {
      if (n & 1n) p = this.mult(this.x2nAt(k), p);
      n >>= 1n;
      k++;
    }
    this.byLength.set(len, p);
    return p;
  }

  combine(crc1: bigint, crc2: bigint, len2: number): bigint {
    if (len2 === 0) return crc1;
    return this.mult(this.shiftFor(len2), crc1) ^ crc2;
  }
}

/** crc(A‖B) from crc(A), crc(B) and |B|. */
export function combineCrc(algorithm: ChecksumAlgorithm, crc1: bigint, crc2: bigint, len2: number): bigint {
  return new Combiner(algorithm).combine(crc1, crc2, len2);
}

/** The CRC of a whole object from its parts' CRCs and lengths, in part order. */
export function combineParts(
  algorithm: ChecksumAlgorithm,
  parts: ReadonlyArray<{ crc: bigint; length: number }>,
): bigint {
  const combiner = new Combiner(algorithm);
  let crc = 0n; // the CRC of zero bytes is 0 for both algorithms
  for (const part of parts) crc = combiner.combine(crc, part.crc, part.length);
  return crc;
}

/** S3's wire form: base64 of the big-endian bytes. */
export function crcToBase64(algorithm: ChecksumAlgorithm, crc: bigint): string {
  const bytes = WIDTH[algorithm] / 8;
  const buf = Buffer.alloc(bytes);
  if (bytes === 4) buf.writeUInt32BE(Number(crc));
  else buf.writeBigUInt64BE(crc);
  return buf.toString("base64");
}

export function crcFromBase64(algorithm: ChecksumAlgorithm, text: string): bigint {
  const buf = Buffer.from(text, "base64");
  const bytes = WIDTH[algorithm] / 8;
  if (buf.length !== bytes) throw new Error(`not a ${algorithm} checksum: ${text}`);
  return bytes === 4 ? BigInt(buf.readUInt32BE()) : buf.readBigUInt64BE();
}
