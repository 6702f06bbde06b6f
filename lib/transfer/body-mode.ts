/** How each part's bytes reach UploadPart when bodyMode is "auto". */
import type { ChecksumAlgorithm } from "./checksum.js";
import type { BodyMode } from "./types.js";

/**
 * Stream with CRC32 (faster, less CPU, half the memory); buffer with CRC64NVME while concurrency × part size
 * ≤ MAX_BUFFERED_BYTES, stream above it (a 5 TiB file has 525 MiB parts). Buffering also lets the SDK retry a
 * failed UploadPart itself; a streamed part is retried by the engine, which fetches the range again.
 * Measurements behind this: bench/BODY-MODE.md.
 */
export const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

export function chooseBodyMode(
  mode: BodyMode,
  algorithm: ChecksumAlgorithm,
  concurrency: number,
  partSize: number,
): "buffer" | "stream" {
  if (mode !== "auto") return mode;
  return algorithm === "CRC64NVME" && concurrency * partSize <= MAX_BUFFERED_BYTES ? "buffer" : "stream";
}
