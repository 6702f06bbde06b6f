import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import {
  type ChecksumAlgorithm,
  chooseBodyMode,
  MAX_BUFFERED_BYTES,
  TransferError,
  type TransferOptions,
  transferToS3,
} from "../../lib/transfer/index.js";

const MiB = 1024 * 1024;

describe("chooseBodyMode", () => {
  it("streams with CRC32, buffers with CRC64NVME while the buffers stay small", () => {
    expect(chooseBodyMode("auto", "CRC32", 8, 8 * MiB)).toBe("stream");
    expect(chooseBodyMode("auto", "CRC64NVME", 8, 8 * MiB)).toBe("buffer");
    expect(chooseBodyMode("auto", "CRC64NVME", 8, MAX_BUFFERED_BYTES / 8)).toBe("buffer");
    expect(chooseBodyMode("auto", "CRC64NVME", 8, MAX_BUFFERED_BYTES / 8 + 1)).toBe("stream");
    expect(chooseBodyMode("auto", "CRC64NVME", 8, 525 * MiB)).toBe("stream"); // a 5 TiB file's parts
    expect(chooseBodyMode("buffer", "CRC32", 64, 5 * 1024 * MiB)).toBe("buffer"); // explicit wins
    expect(chooseBodyMode("stream", "CRC64NVME", 1, 5 * MiB)).toBe("stream");
  });
});

describe("transferToS3 input checks (before any network call)", () => {
  const s3 = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  let infoCalls = 0;
  const base: TransferOptions = {
    s3,
    bucket: "b",
    key: "k",
    size: 10,
    source: {
      getDownloadInfo: async () => {
        infoCalls++;
        throw new Error("not reached");
      },
    },
    allowedHosts: ["*.dingtalk.com"],
  };

  async function reason(overrides: Partial<TransferOptions>) {
    try {
      await transferToS3({ ...base, ...overrides });
    } catch (err) {
      expect(err).toBeInstanceOf(TransferError);
      return (err as TransferError).reason;
    }
    throw new Error("accepted");
  }

  it.each([
    [{ concurrency: 0 }],
    [{ concurrency: 65 }],
    [{ concurrency: 1.5 }],
    [{ attempts: 0 }],
    [{ partSize: 1024 }],
    [{ size: -1 }],
    [{ checksumAlgorithm: "MD5" as ChecksumAlgorithm }],
  ])("refuses %j", async (overrides) => {
    expect(await reason(overrides)).toBe("invalidInput");
  });

  it("refuses an already aborted signal", async () => {
    expect(await reason({ signal: AbortSignal.abort() })).toBe("aborted");
    expect(infoCalls).toBe(0);
  });

  it("wraps a failing DingTalk call as downloadInfo, retryable", async () => {
    try {
      await transferToS3(base);
      throw new Error("accepted");
    } catch (err) {
      expect((err as TransferError).reason).toBe("downloadInfo");
      expect((err as TransferError).retryable).toBe(true);
      expect((err as Error).message).toMatch(/getting download info failed: not reached/);
    }
  });
});
