/**
 * Object keys from hostile names, end to end: DingTalk (the sandbox, behind test/security/rewriting-proxy.ts,
 * which replaces the name in getDentry's answer) names a file "../../etc/passwd", "\u202efdp.exe", 10 KB of
 * text, "..", only slashes...; the real archive worker (SQS → functions/archive/handler.ts → fauxqs) stores
 * it. Every object in the bucket stays under ARCHIVE_PREFIX/{space}/{dentry}/v{version}/ as one name segment
 * without "..", control or bidi characters, within 1,024 bytes; its metadata travels as printable ASCII and
 * reads back to the name; nothing is written anywhere else in the bucket.
 */
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import type { Handler, SQSBatchResponse } from "aws-lambda";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readMetadataValue, S3_MAX_KEY_BYTES } from "../../lib/archive";
import { wellFormed } from "../../lib/archive/key";
import { FUZZ_SEED, hostileName } from "../fuzz/arbitraries";
import { BUCKET, invoke, PREFIX, QUEUES, sqsEvent, useStack } from "../support/handler-stack";
import { type RewritingProxy, startRewritingProxy } from "./rewriting-proxy";

let proxy: RewritingProxy;
let handler: Handler;
let s3: S3Client;
let fileId: string;

const stack = useStack({ sandbox: { generatedFiles: [{ name: "plain.txt", size: 321, seed: "keys" }] } });
beforeAll(async () => {
  const sandboxHost = new URL(stack.sandbox.url).host;
  proxy = await startRewritingProxy(sandboxHost);
  process.env.DINGTALK_API_BASE = proxy.url;
  vi.resetModules();
  handler = (await import("../../functions/archive/handler")).handler as Handler;
  s3 = new S3Client({ endpoint: stack.emulator.address, forcePathStyle: true, region: "us-east-1" });
  fileId = stack.sandbox.dentryIdByPath("plain.txt") as string;
});

afterAll(async () => {
  s3?.destroy();
  await proxy?.close();
});

const CONTROL_OR_BIDI = /[\p{Cc}\p{Zl}\p{Zp}\p{Bidi_Control}]/u;
const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

describe("hostile DingTalk names through the archive worker", () => {
  it("each lands under the prefix as one clean segment within 1,024 bytes, metadata intact", async () => {
    // Fixed names first (traversal, controls, RTL, 10 KB, slashes, dots), then fast-check's (fixed seed).
    const names = [
      "../../../etc/passwd",
      "..",
      ".",
      "////",
      "\u202efdp.exe",
      "a\r\nx-amz-meta-injected: 1.txt",
      "x".repeat(10 * 1024),
      `${"報".repeat(3000)}.pdf`,
      "\ud800lone.txt",
      ...fc.sample(hostileName, { numRuns: 40, seed: FUZZ_SEED }),
    ];
    const folder = `${PREFIX}sandbox-space/${fileId}/`;
    let version = 0;
    for (const name of names) {
      // A new version per name: each gets its own folder (v1, v2...), so nothing is skipped as archived.
      version += 1;
      if (version > 1)
        stack.sandbox.putGeneratedFile({ name: "plain.txt", size: 321, seed: `keys-${version}` });
      proxy.rewriteDentry = (dentry) => ({ ...dentry, name });
      const deadBefore = stack.messages(QUEUES.archiveDlq).length;
      const result = await invoke<SQSBatchResponse>(
        handler,
        sqsEvent([JSON.stringify({ spaceId: "sandbox-space", dentryId: fileId })], `keys-${version}`),
      );
      expect(result.batchItemFailures).toEqual([]);
      if (name === "") {
        // No name at all is a malformed answer, refused at the client's boundary: dead-lettered, naming it.
        const dead = stack.messages(QUEUES.archiveDlq).slice(deadBefore) as Array<{
          error: { code: string; message: string };
        }>;
        expect(dead.map((d) => d.error.code)).toEqual(["InvalidResponse"]);
        expect(dead[0]?.error.message).toContain("dentry.name");
        continue;
      }
      expect(stack.messages(QUEUES.archiveDlq).slice(deadBefore), JSON.stringify(name).slice(0, 80)).toEqual(
        [],
      );

      const key = (await allKeys()).find((k) => k.startsWith(`${folder}v${version}/`));
      expect(key, `no object for ${JSON.stringify(name).slice(0, 80)}`).toBeDefined();
      const segment = (key as string).slice(`${folder}v${version}/`.length);
      expect(utf8(key as string) <= S3_MAX_KEY_BYTES, "key too long").toBe(true);
      expect(["", ".", ".."].includes(segment) || segment.includes("/"), "bad segment").toBe(false);
      expect(CONTROL_OR_BIDI.test(segment), "control or bidi character in the key").toBe(false);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(head.ContentLength).toBe(321);
      const stored = readMetadataValue(head.Metadata?.["dingtalk-name"]) as string;
      const expected = wellFormed(name).normalize("NFC");
      // The whole name, or (when it does not fit S3's 2 KB of metadata) its beginning and extension.
      const stem = stored.lastIndexOf(".") > 0 ? stored.slice(0, stored.lastIndexOf(".")) : stored;
      expect(expected.startsWith(stem), "metadata name is not the name").toBe(true);
      expect(Object.keys(head.Metadata ?? {}).some((k) => k.includes("injected"))).toBe(false);
    }
    // Nothing outside the prefix and this file's folder (checkpoints live under the prefix too).
    for (const key of await allKeys()) {
      expect(key.startsWith(folder) || key.startsWith(`${PREFIX}.checkpoints/`), key.slice(0, 120)).toBe(
        true,
      );
    }
  }, 60_000);
});
