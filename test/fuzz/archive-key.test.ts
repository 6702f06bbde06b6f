/**
 * Object keys and metadata from hostile DingTalk names (path traversal, control characters, RTL overrides,
 * 10 KB names, ".", "..", names made of slashes, lone surrogates): the key always stays under
 * ARCHIVE_PREFIX + {spaceId}/{dentryId}/v{version}/, is one name segment below it, holds no ".." segment,
 * no control or bidi character, is well-formed Unicode, and fits S3's 1,024 UTF-8 bytes; the metadata
 * fits S3's 2 KB and travels as printable ASCII headers.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { archiveKey, objectMetadata, readMetadataValue, S3_MAX_KEY_BYTES, safeName } from "../../lib/archive";
import { S3_MAX_METADATA_BYTES } from "../../lib/archive/metadata";
import { archiveRequestSchema } from "../../lib/archive/request";
import { ConfigError, loadArchiveConfig } from "../../lib/config/env";
import { keySegment } from "../../lib/dingtalk/ids";
import { REAL_IDS } from "../support/real-ids";
import { hostileName, hostileString, runs } from "./arbitraries";

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");
const CONTROL_OR_BIDI = /[\p{Cc}\p{Zl}\p{Zp}\p{Bidi_Control}]/u;

/** Ids as they reach archiveKey: only what the request schema lets through (DingTalk ids are short). */
const id = fc
  .oneof(
    fc.stringMatching(/^[0-9]{1,20}$/),
    fc.constantFrom("sandbox-space", "space_1", "dentry-01", "報告", "a b", "x".repeat(256)),
    fc.constantFrom(...REAL_IDS.all),
    hostileString(40),
  )
  .filter((value) => archiveRequestSchema.safeParse({ spaceId: value, dentryId: value }).success)
  .map((value) => value.trim());

/** ARCHIVE_PREFIX values an operator might set, normalised by lib/config as the function does. */
const prefix = fc
  .oneof(
    fc.constantFrom("", "archive", "archive/", "dingtalk/prod/", "a/b/c/d/e/f/", "報告/", "x".repeat(300)),
    fc.array(fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/), { maxLength: 5 }).map((parts) => parts.join("/")),
  )
  .map((raw) => {
    try {
      return loadArchiveConfig({ ARCHIVE_BUCKET: "bucket", ARCHIVE_PREFIX: raw }).prefix;
    } catch (error) {
      if (error instanceof ConfigError) return undefined;
      throw error;
    }
  })
  .filter((p): p is string => p !== undefined);

/** Ids are opaque: "/", "\\" and "%" are encoded so each stays one folder. */
const folderOf = (p: string, spaceId: string, dentryId: string, v: number) =>
  `${p}${keySegment("spaceId", spaceId)}/${keySegment("dentryId", dentryId)}/v${v}/`;

const version = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER));

/** Short messages: a failing 10 KB name would otherwise be printed once per assertion. */
function checkName(name: string, maxBytes: number) {
  expect(["", ".", ".."].includes(name), "name is empty, . or ..").toBe(false);
  expect(/[/\\]/.test(name), "name holds a slash").toBe(false);
  expect(CONTROL_OR_BIDI.test(name), "name holds a control or bidi character").toBe(false);
  expect(name.isWellFormed(), "name is not well-formed Unicode").toBe(true);
  expect(name === name.normalize("NFC"), "name is not NFC").toBe(true);
  expect(name === name.trim(), "name has outer spaces").toBe(true);
  expect(utf8(name) <= maxBytes, `name is ${utf8(name)} bytes, over ${maxBytes}`).toBe(true);
}

describe("archiveKey with hostile names", () => {
  it("stays under the prefix and its folder, as one clean segment, within 1,024 bytes", () => {
    fc.assert(
      fc.property(prefix, id, id, version, hostileName, (p, spaceId, dentryId, v, name) => {
        let key: string;
        try {
          key = archiveKey({ prefix: p, spaceId, dentryId, version: v, name });
        } catch (error) {
          // Only a prefix + ids too long to leave room for a name is refused, and it says so.
          expect(error).toBeInstanceOf(RangeError);
          expect((error as Error).message, JSON.stringify([spaceId, dentryId])).toMatch(
            /no room is left for the name/,
          );
          expect(utf8(folderOf(p, spaceId, dentryId, v))).toBeGreaterThan(S3_MAX_KEY_BYTES - 8);
          return;
        }
        const folder = folderOf(p, spaceId, dentryId, v);
        expect(folder.split("/").length, "an id made more than one folder").toBe(p.split("/").length + 3);
        expect(key.startsWith(folder), "key left its folder").toBe(true);
        expect(utf8(key) <= S3_MAX_KEY_BYTES, `key is ${utf8(key)} bytes`).toBe(true);
        expect(key.split("/").includes(".."), "key has a .. segment").toBe(false);
        expect(/\p{Cc}/u.test(key), "key holds a control character").toBe(false);
        expect(key.isWellFormed(), "key is not well-formed Unicode").toBe(true);
        checkName(key.slice(folder.length), S3_MAX_KEY_BYTES - utf8(folder));
      }),
      runs(3000),
    );
  });

  it("refuses ids that would change the folder structure instead of building a key", () => {
    const badId = fc.constantFrom("", ".", "..", "a\u0000b", "a\nb", "\u007f", "\ud800");
    fc.assert(
      fc.property(badId, hostileName, fc.boolean(), (bad, name, asSpace) => {
        const ids = asSpace ? { spaceId: bad, dentryId: "1" } : { spaceId: "s", dentryId: bad };
        expect(() => archiveKey({ prefix: "p/", ...ids, version: 1, name })).toThrow(RangeError);
      }),
      runs(200),
    );
  });
});

describe("safeName", () => {
  it("is clean for any name and any byte budget, and a clean name comes back unchanged", () => {
    fc.assert(
      fc.property(hostileName, fc.integer({ min: 1, max: 1100 }), (name, maxBytes) => {
        const safe = safeName(name, maxBytes);
        checkName(safe, Math.max(maxBytes, 1));
        expect(safeName(safe, maxBytes)).toBe(safe);
      }),
      runs(2000),
    );
  });
});

describe("objectMetadata with hostile names and DingTalk fields", () => {
  it("fits S3's 2 KB, is printable ASCII, and reads back to the (NFC, well-formed) name or a prefix of it", () => {
    const facts = fc.record({
      spaceId: id,
      dentryId: id,
      version,
      name: hostileName,
      size: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      modifiedTime: fc.option(fc.oneof(fc.constant("2026-01-05T09:00Z"), hostileString(40)), {
        nil: undefined,
      }),
      creatorId: fc.option(fc.oneof(fc.constant("sandbox-union"), hostileString(40)), { nil: undefined }),
    });
    fc.assert(
      fc.property(facts, (f) => {
        // Ids from DingTalk are short; a realistic upper bound keeps the other fields within the budget.
        fc.pre(utf8(f.spaceId) + utf8(f.dentryId) < 400);
        const meta = objectMetadata(f);
        let total = 0;
        for (const [k, v] of Object.entries(meta)) {
          total += utf8(k) + utf8(v);
          expect(v).toMatch(/^[\x20-\x7e]*$/);
          expect(v).toBe(v.trim());
        }
        expect(total).toBeLessThanOrEqual(S3_MAX_METADATA_BYTES);
        const name = readMetadataValue(meta["dingtalk-name"]) as string;
        const original = f.name.toWellFormed().normalize("NFC");
        expect(
          original.startsWith(name.slice(0, name.lastIndexOf(".") > 0 ? name.lastIndexOf(".") : undefined)),
        ).toBe(true);
      }),
      runs(1500),
    );
  });
});
