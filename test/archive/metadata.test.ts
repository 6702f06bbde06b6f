/** Object metadata (ASCII-safe, within S3's 2 KB) and Content-Type: pure functions. */
import { describe, expect, it } from "vitest";
import {
  asciiSafe,
  contentTypeFor,
  DEFAULT_CONTENT_TYPE,
  META,
  objectMetadata,
  readMetadataValue,
  S3_MAX_METADATA_BYTES,
  storedContentTypeFor,
} from "../../lib/archive/metadata";

const PRINTABLE = /^[\x20-\x7e]*$/;
const facts = {
  spaceId: "space1",
  dentryId: "12345",
  version: 4,
  name: "报告 2026.pdf",
  size: 300_001,
  modifiedTime: "2026-03-01T08:15Z",
  creatorId: "union-1",
};
const metadataBytes = (m: Record<string, string>) =>
  Object.entries(m).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

describe("asciiSafe / readMetadataValue", () => {
  it.each([
    ["report.pdf", "report.pdf"],
    ["a b c", "a b c"],
    ["2026-03-01T08:15Z", "2026-03-01T08:15Z"],
    ["", ""],
    ["报告.pdf", "%E6%8A%A5%E5%91%8A.pdf"],
    ["100%.txt", "100%25.txt"],
    [" padded ", "%20padded%20"],
    ["tab\there", "tab%09here"],
    ["Café", "Caf%C3%A9"],
    ["bad\ud800half", "bad%EF%BF%BDhalf"],
  ])("%j → %j", (value, encoded) => {
    expect(asciiSafe(value)).toBe(encoded);
    expect(asciiSafe(value)).toMatch(PRINTABLE);
  });

  it("reads every value back with decodeURIComponent, whether it was encoded or not", () => {
    for (const value of ["report.pdf", "报告 2026.pdf", "100%.txt", " x ", "a+b=c&d", "😀", "%41"]) {
      expect(readMetadataValue(asciiSafe(value))).toBe(value);
    }
    expect(readMetadataValue(undefined)).toBeUndefined();
    expect(readMetadataValue("%zz not ours")).toBe("%zz not ours");
  });
});

describe("objectMetadata", () => {
  it("names the DingTalk source of the object, every value printable ASCII", () => {
    const meta = objectMetadata(facts);
    expect(meta).toEqual({
      [META.spaceId]: "space1",
      [META.dentryId]: "12345",
      [META.version]: "4",
      [META.name]: asciiSafe("报告 2026.pdf"),
      [META.size]: "300001",
      [META.modifiedTime]: "2026-03-01T08:15Z",
      [META.creatorId]: "union-1",
    });
    for (const [k, v] of Object.entries(meta)) {
      expect(k).toMatch(/^[a-z0-9-]+$/);
      expect(v).toMatch(PRINTABLE);
    }
  });

  it("leaves out what is not known", () => {
    const meta = objectMetadata({ ...facts, modifiedTime: undefined, creatorId: undefined });
    expect(Object.keys(meta).sort()).toEqual(
      [META.spaceId, META.dentryId, META.version, META.name, META.size].sort(),
    );
  });

  it("stores the name in NFC", () => {
    expect(readMetadataValue(objectMetadata({ ...facts, name: "Cafe\u0301.txt" })[META.name])).toBe(
      "Caf\u00e9.txt",
    );
  });

  it("cuts a huge name (keeping its extension) so all metadata fits S3's 2 KB", () => {
    for (const name of [`${"报告".repeat(300)}.xlsx`, `${"a".repeat(5000)}.pdf`, "😀".repeat(1000)]) {
      const meta = objectMetadata({ ...facts, name });
      expect(metadataBytes(meta)).toBeLessThanOrEqual(S3_MAX_METADATA_BYTES);
      expect(metadataBytes(meta)).toBeGreaterThan(S3_MAX_METADATA_BYTES - 12); // one character short at most
      const back = readMetadataValue(meta[META.name]) as string;
      expect(back).not.toContain("\ufffd");
      const ext = name.match(/\.[a-z]+$/)?.[0];
      if (ext) expect(back.endsWith(ext)).toBe(true);
      expect(name.startsWith(back.slice(0, back.length - (ext?.length ?? 0)))).toBe(true);
    }
  });
});

describe("contentTypeFor", () => {
  it.each([
    ["report.pdf", "application/pdf"],
    ["REPORT.PDF", "application/pdf"],
    ["plan.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
    ["notes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
    ["deck.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"],
    ["données.csv", "text/csv"],
    ["photo.JPG", "image/jpeg"],
    ["clip.mp4", "video/mp4"],
    ["backup.tar.gz", "application/gzip"],
    ["big.bin", DEFAULT_CONTENT_TYPE],
    ["README", DEFAULT_CONTENT_TYPE],
    [".bashrc", DEFAULT_CONTENT_TYPE],
    ["trailing.", DEFAULT_CONTENT_TYPE],
    ["odd.toString", DEFAULT_CONTENT_TYPE],
    ["proto.__proto__", DEFAULT_CONTENT_TYPE],
    ["ctor.constructor", DEFAULT_CONTENT_TYPE],
  ])("%s → %s", (name, type) => {
    expect(contentTypeFor(name)).toBe(type);
  });
});

describe("storedContentTypeFor: what a browser would execute is stored to download", () => {
  it.each([
    ["page.html", "text/html"],
    ["PAGE.HTM", "text/html"],
    ["inc.shtml", "text/html"],
    ["doc.xhtml", "application/xhtml+xml"],
    ["logo.svg", "image/svg+xml"],
    ["logo.svgz", "image/svg+xml"],
    ["app.js", "text/javascript"],
    ["mod.mjs", "text/javascript"],
    ["lib.cjs", "text/javascript"],
    ["data.xml", "application/xml"],
    ["style.xsl", "application/xslt+xml"],
    ["feed.rss", "application/rss+xml"],
    ["saved.mhtml", "multipart/related"],
  ])("%s is stored as application/octet-stream, its real type %s in metadata", (name, real) => {
    expect(contentTypeFor(name)).toBe(real);
    expect(storedContentTypeFor(name)).toBe(DEFAULT_CONTENT_TYPE);
    const meta = objectMetadata({ spaceId: "s", dentryId: "d", version: 1, name, size: 1 });
    expect(meta[META.contentType]).toBe(real);
  });

  it.each(["report.pdf", "photo.jpg", "notes.txt", "data.json", "style.css", "plan.xlsx", "big.bin"])(
    "%s keeps its own type, with no extra metadata",
    (name) => {
      expect(storedContentTypeFor(name)).toBe(contentTypeFor(name));
      const meta = objectMetadata({ spaceId: "s", dentryId: "d", version: 1, name, size: 1 });
      expect(meta[META.contentType]).toBeUndefined();
    },
  );
});
