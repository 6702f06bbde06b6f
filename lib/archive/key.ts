/**
 * Where a DingTalk file version lands in S3:
 *
 *   ARCHIVE_PREFIX + {spaceId}/{dentryId}/v{version}/{name}
 *
 * The ids and the version make the key unique and stable (a renamed file keeps its folder, a new version gets
 * a new folder), so the name only has to be safe and readable: one path segment, no control characters,
 * Unicode NFC (so "é" typed two ways is one key), Chinese and accents kept as they are. The whole key fits
 * S3's limit of 1,024 UTF-8 bytes; a name too long for it is cut at a character boundary, keeping its extension.
 * Pure functions, no I/O.
 */
import { keySegment } from "../dingtalk/ids";

export const S3_MAX_KEY_BYTES = 1024;

/** What is left of a name made of nothing usable ("", ".", "..", only control characters). */
export const FALLBACK_NAME = "_";

/** An extension longer than this is not one ("report.final-draft-for-the-board"): it may be cut. */
const MAX_EXTENSION_BYTES = 16;

export interface ArchiveKeyInput {
  /** ARCHIVE_PREFIX as lib/config normalises it: "" or ending in "/". */
  prefix: string;
  spaceId: string;
  dentryId: string;
  version: number;
  /** The file's DingTalk name, as DingTalk gives it. */
  name: string;
}

export function archiveKey(input: ArchiveKeyInput): string {
  const { prefix, spaceId, dentryId, version } = input;
  checkPrefix(prefix);

  if (!Number.isSafeInteger(version) || version < 1) {
    throw new RangeError(`version must be a whole number ≥ 1, got ${version}`);
  }
  const folder = `${prefix}${keySegment("spaceId", spaceId)}/${keySegment("dentryId", dentryId)}/v${version}/`;
  const room = S3_MAX_KEY_BYTES - utf8Bytes(folder);
  // Keep at least a few bytes for the name: an ARCHIVE_PREFIX eating the whole key is a configuration error.
  if (room < 8) {
    throw new RangeError(
      `ARCHIVE_PREFIX and the ids take ${utf8Bytes(folder)} of S3's ${S3_MAX_KEY_BYTES} key bytes; no room is left for the name`,
    );
  }
  return folder + safeName(input.name, room);
}

/**
 * A file name as one safe, readable S3 key segment of at most `maxBytes` UTF-8 bytes:
 * NFC; lone surrogates → U+FFFD; `/`, `\`, control and bidi-override characters → "_"; outer spaces trimmed;
 * "", "." and ".." → "_"; cut at a grapheme boundary, keeping a short extension, when too long.
 */
export function safeName(name: string, maxBytes: number = S3_MAX_KEY_BYTES): string {
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`maxBytes must be ≥ 1, got ${maxBytes}`);
  }
  const clean = wellFormed(name).normalize("NFC").replace(UNSAFE_CHARS, "_").trim();
  // Checked again after cutting: "ab ." cut to "ab " or "..x" cut to ".." must not slip through.
  const cut = truncateName(usable(clean), maxBytes).trimEnd();
  return usable(cut);
}

function usable(name: string): string {
  return name === "" || name === "." || name === ".." ? FALLBACK_NAME : name;
}

/**
 * Characters that must not reach a key: path separators (a name is one segment), C0/C1 controls (invisible,
 * break logs and consoles), line/paragraph separators, and bidi controls (they make a key display as
 * another one: "exe.pdf" shown for "fdp.exe").
 */
const UNSAFE_CHARS = /[/\\\p{Cc}\p{Zl}\p{Zp}\p{Bidi_Control}]/gu;

/** Replace unpaired UTF-16 surrogates (not encodable as UTF-8) with U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

/** Cut `name` to `maxBytes`, keeping its extension when it has a short one; never splits a character. */
export function truncateName(name: string, maxBytes: number): string {
  if (utf8Bytes(name) <= maxBytes) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot) : "";
  const extBytes = utf8Bytes(extension);
  if (extension !== "" && extBytes <= MAX_EXTENSION_BYTES && extBytes < maxBytes) {
    const stem = cutToBytes(name.slice(0, dot), maxBytes - extBytes);
    if (stem !== "") return stem + extension;
  }
  return cutToBytes(name, maxBytes) || FALLBACK_NAME;
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends at a grapheme boundary. */
function cutToBytes(text: string, maxBytes: number): string {
  let out = "";
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const n = utf8Bytes(segment);
    if (used + n > maxBytes) break;
    out += segment;
    used += n;
  }
  return out;
}

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/** User-perceived characters: "é" written as e + U+0301 and an emoji family are one each. */
export function graphemesOf(text: string): string[] {
  return Array.from(graphemes.segment(text), (s) => s.segment);
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

function checkPrefix(prefix: string): void {
  if (prefix === "") return;
  if (!prefix.endsWith("/") || prefix.startsWith("/") || prefix.split("/").includes("..")) {
    throw new RangeError(`prefix must be "" or end in "/", without a leading "/" or ".." segments`);
  }
}
