import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SinkOptions, startSink } from "../../bench/s3-sink.js";
import {
  type BodyMode,
  crcOf,
  crcToBase64,
  TransferError,
  type TransferEvent,
  transferToS3,
} from "../../lib/transfer/index.js";
import { generatedStream } from "../../sandbox/content.js";
import { startSandbox } from "../../sandbox/server.js";
import type { Sandbox } from "../../sandbox/types.js";
import { localS3, SILENT_LOGGER } from "../support/world";
import { MiB, sandboxSource } from "./helpers.js";

const SIZE = 20 * MiB + 5;
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    generatedFiles: [{ name: "f.bin", size: SIZE, seed: "s3-faults" }],
  });
});
afterAll(() => sandbox.close());

async function withSink(options: SinkOptions, bodyMode: BodyMode) {
  const sink = await startSink(options);
  const s3 = localS3(sink.url, { logger: SILENT_LOGGER });
  const events: TransferEvent[] = [];
  try {
    const result = await transferToS3({
      s3,
      bucket: "b",
      key: "k",
      size: SIZE,
      source: sandboxSource(sandbox, sandbox.dentryIdByPath("f.bin") as string),
      allowedHosts: [sandbox.fileHost],
      allowHttpHosts: [sandbox.fileHost],
      partSize: 5 * MiB,
      concurrency: 2,
      bodyMode,
      idleTimeoutMs: 500,
      backoff: { baseMs: 10, maxMs: 50 },
      onEvent: (e) => events.push(e),
    }).catch((err: unknown) => err);
    return { result, events, stats: sink.stats };
  } finally {
    s3.destroy();
    await sink.close();
  }
}

describe("S3's full-object checksum", () => {
  it("matching: reported as confirmed by S3", async () => {
    const chunks: Buffer[] = [];
    for await (const c of generatedStream("s3-faults", SIZE)) chunks.push(c as Buffer);
    const crc32 = crcToBase64("CRC32", crcOf("CRC32", Buffer.concat(chunks)));
    const { result, stats } = await withSink({ completeCrc32: crc32 }, "stream");
    expect(result).toMatchObject({ status: "completed", checksum: crc32, s3Checksum: "match" });
    expect(stats.deletes).toBe(0);
  });

  it("refused by S3 on CompleteMultipartUpload (BadDigest) → checksumMismatch, upload aborted", async () => {
    const { result, stats } = await withSink({ failCompleteCode: "BadDigest" }, "stream");
    expect((result as TransferError).reason).toBe("checksumMismatch");
    expect(stats).toMatchObject({ completes: 0, aborts: 1 });
  });

  it("a part refused as BadDigest → sent again (bytes changed on the way)", async () => {
    const { result, events } = await withSink(
      { failParts: 1, failStatus: 400, failCode: "BadDigest" },
      "buffer",
    );
    expect(result).toMatchObject({ status: "completed" });
    expect(events.filter((e) => e.type === "retry")).toHaveLength(1);
  });

  it.each(["buffer", "stream"] as const)(
    "differing (%s): checksumMismatch, and the object is deleted again",
    async (mode) => {
      const { result, stats } = await withSink({ completeCrc32: "AAAAAA==" }, mode);
      expect(result).toBeInstanceOf(TransferError);
      expect((result as TransferError).reason).toBe("checksumMismatch");
      expect((result as TransferError).message).toMatch(/; object deleted$/);
      expect(stats).toMatchObject({ completes: 1, deletes: 1 });
    },
  );

  it("differing, and deleting the object fails: the error says it is still there, never that it was deleted", async () => {
    const { result, events, stats } = await withSink(
      { completeCrc32: "AAAAAA==", failDeletes: 10 },
      "buffer",
    );
    expect(result).toBeInstanceOf(TransferError);
    expect((result as TransferError).reason).toBe("checksumMismatch");
    expect((result as TransferError).message).toMatch(
      /deleting the object failed, so it is still under the key/,
    );
    expect((result as TransferError).message).not.toMatch(/object deleted/);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "cleanupError", error: expect.stringMatching(/^DeleteObject failed/) }),
    );
    expect(stats.deletes).toBe(0);
  });
});

describe("S3 faults", () => {
  it("S3 that stops reading a streamed part → the attempt is abandoned and the part sent again", async () => {
    const { result, events, stats } = await withSink({ stallParts: 1 }, "stream");
    expect(result).toMatchObject({ status: "completed", parts: 5 });
    expect(stats).toMatchObject({ stalled: 1, parts: 5, completes: 1 });
    expect(events).toContainEqual(
      expect.objectContaining({ type: "retry", error: expect.stringMatching(/S3 stopped reading/) }),
    );
  });

  it("a 500 on a streamed part → the engine re-fetches the range (the SDK cannot resend a stream)", async () => {
    const { result, events } = await withSink({ failParts: 2 }, "stream");
    expect(result).toMatchObject({ status: "completed" });
    expect(events.filter((e) => e.type === "retry")).toHaveLength(2);
    expect((result as { bytesResent: number }).bytesResent).toBeGreaterThan(0);
  });

  it("a 500 on a buffered part → the SDK resends the buffer, nothing is downloaded twice", async () => {
    const { result, events } = await withSink({ failParts: 2 }, "buffer");
    expect(result).toMatchObject({ status: "completed", bytesResent: 0 });
    expect(events.filter((e) => e.type === "retry")).toHaveLength(0);
  });

  it.each(["stream", "buffer"] as const)(
    "403 AccessDenied on a part (%s) → upload error, multipart aborted",
    async (mode) => {
      const { result, stats } = await withSink(
        { failParts: 1, failStatus: 403, failCode: "AccessDenied" },
        mode,
      );
      expect(result).toBeInstanceOf(TransferError);
      expect((result as TransferError).reason).toBe("upload");
      expect((result as TransferError).status).toBe(403);
      expect(stats).toMatchObject({ completes: 0, aborts: 1 });
    },
  );
});
