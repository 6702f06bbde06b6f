/**
 * What an archived object says about where it came from (S3 user metadata, `x-amz-meta-*`), and its
 * Content-Type. Pure functions, no I/O.
 *
 * Metadata values travel as HTTP headers, so they must be printable ASCII. A value that is not (a Chinese
 * name, a name with "%" or outer spaces) is percent-encoded as UTF-8 (encodeURIComponent); every other value
 * is stored as is. Since a literal value never contains "%", `decodeURIComponent` reads every value back
 * correctly: see readMetadataValue. (Percent-encoding rather than RFC 2047: S3 itself decodes RFC 2047 on
 * the way in and re-encodes on the way out, so what a reader gets would depend on the client.)
 */
import { graphemesOf, utf8Bytes, wellFormed } from "./key";

/** The metadata keys, without the `x-amz-meta-` that S3 adds. */
export const META = {
  spaceId: "dingtalk-space-id",
  dentryId: "dingtalk-dentry-id",
  version: "dingtalk-version",
  name: "dingtalk-name",
  size: "dingtalk-size",
  modifiedTime: "dingtalk-modified-time",
  creatorId: "dingtalk-creator-id",
  /** The file's real Content-Type when the object is stored with a neutral one (see storedContentTypeFor). */
  contentType: "dingtalk-content-type",
} as const;

/** S3 allows 2 KB of user metadata (keys and values, UTF-8); the name gets what the other fields leave. */
export const S3_MAX_METADATA_BYTES = 2048;

export interface SourceFacts {
  spaceId: string;
  dentryId: string;
  version: number;
  name: string;
  size: number;
  /** DingTalk's ISO 8601 time (minute precision); absent when unknown (an older version). */
  modifiedTime?: string | undefined;
  creatorId?: string | undefined;
}

export function objectMetadata(facts: SourceFacts): Record<string, string> {
  const meta: Record<string, string> = {
    [META.spaceId]: asciiSafe(facts.spaceId),
    [META.dentryId]: asciiSafe(facts.dentryId),
    [META.version]: String(facts.version),
    [META.size]: String(facts.size),
  };
  if (facts.modifiedTime) meta[META.modifiedTime] = asciiSafe(facts.modifiedTime);
  if (facts.creatorId) meta[META.creatorId] = asciiSafe(facts.creatorId);
  const realType = contentTypeFor(facts.name);
  if (storedContentTypeFor(facts.name) !== realType) meta[META.contentType] = realType;
  const used = Object.entries(meta).reduce((n, [k, v]) => n + utf8Bytes(k) + utf8Bytes(v), 0);
  meta[META.name] = encodedWithin(
    facts.name.normalize("NFC"),
    S3_MAX_METADATA_BYTES - used - utf8Bytes(META.name),
  );
  return meta;
}

/**
 * `value` as printable ASCII: unchanged when it already is (and holds no "%" and no outer spaces, which HTTP
 * would trim), else percent-encoded UTF-8 (unpaired surrogates become U+FFFD).
 */
export function asciiSafe(value: string): string {
  return /^(?:[\x21-\x24\x26-\x7e](?:[\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?)?$/.test(value)
    ? value
    : encodeURIComponent(wellFormed(value));
}

/** The original value of a metadata entry written by objectMetadata (undefined stays undefined). */
export function readMetadataValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // not written by us
  }
}

/** The encoded name, its stem cut at a character boundary (keeping a short extension) to fit `maxBytes`. */
function encodedWithin(name: string, maxBytes: number): string {
  const whole = asciiSafe(name);
  if (whole.length <= maxBytes) return whole;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
  const stem = graphemesOf(name.slice(0, name.length - extension.length));
  const encoded = (n: number) => asciiSafe(stem.slice(0, n).join("") + extension);
  // The encoding grows with every character kept: binary search for the most that fit.
  let fits = 0;
  let tooMany = stem.length;
  while (tooMany - fits > 1) {
    const mid = (fits + tooMany) >> 1;
    if (encoded(mid).length <= maxBytes) fits = mid;
    else tooMany = mid;
  }
  const best = encoded(fits);
  return best.length <= maxBytes ? best : "";
}

/** Content types by extension: the formats DingTalk drives hold; anything else is application/octet-stream. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  // documents
  pdf: "application/pdf",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xls: "application/vnd.ms-excel",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ppt: "application/vnd.ms-powerpoint",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  odt: "application/vnd.oasis.opendocument.text",
  ods: "application/vnd.oasis.opendocument.spreadsheet",
  odp: "application/vnd.oasis.opendocument.presentation",
  rtf: "application/rtf",
  epub: "application/epub+zip",
  // text and data
  txt: "text/plain",
  log: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  html: "text/html",
  htm: "text/html",
  shtml: "text/html",
  xhtml: "application/xhtml+xml",
  xht: "application/xhtml+xml",
  mht: "multipart/related",
  mhtml: "multipart/related",
  css: "text/css",
  xml: "application/xml",
  xsl: "application/xslt+xml",
  xslt: "application/xslt+xml",
  rss: "application/rss+xml",
  atom: "application/atom+xml",
  json: "application/json",
  yaml: "application/yaml",
  yml: "application/yaml",
  js: "text/javascript",
  mjs: "text/javascript",
  cjs: "text/javascript",
  // images
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  svg: "image/svg+xml",
  svgz: "image/svg+xml",
  tif: "image/tiff",
  tiff: "image/tiff",
  heic: "image/heic",
  ico: "image/vnd.microsoft.icon",
  // audio and video
  mp3: "audio/mpeg",
  wav: "audio/wav",
  m4a: "audio/mp4",
  aac: "audio/aac",
  ogg: "audio/ogg",
  mp4: "video/mp4",
  mov: "video/quicktime",
  avi: "video/x-msvideo",
  mkv: "video/x-matroska",
  webm: "video/webm",
  // archives
  zip: "application/zip",
  rar: "application/vnd.rar",
  "7z": "application/x-7z-compressed",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
};

export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** The Content-Type for a file name, from its extension (case-insensitive). */
export function contentTypeFor(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) return DEFAULT_CONTENT_TYPE;
  const extension = name.slice(dot + 1).toLowerCase();
  // Own keys only: "x.__proto__" or "x.constructor" must not find Object.prototype's.
  return Object.hasOwn(CONTENT_TYPES, extension)
    ? (CONTENT_TYPES[extension] as string)
    : DEFAULT_CONTENT_TYPE;
}

/**
 * Types a browser renders as an active page (scripts run with the origin of the link): HTML, XHTML, SVG,
 * JavaScript, XML (an XSL stylesheet or xml-stylesheet can turn it into HTML) and MHTML. A presigned link to an
 * object stored with one of them would run whatever the file holds in the viewer's browser.
 */
const ACTIVE_CONTENT_TYPES = new Set([
  "text/html",
  "application/xhtml+xml",
  "image/svg+xml",
  "text/javascript",
  "application/xml",
  "application/xslt+xml",
  "application/rss+xml",
  "application/atom+xml",
  "multipart/related",
]);

/**
 * The Content-Type the object is stored with: the real one, except for types a browser would execute, which
 * are stored as application/octet-stream so a presigned link downloads them instead of rendering them (the
 * real type goes into the `dingtalk-content-type` metadata, see objectMetadata).
 */
export function storedContentTypeFor(name: string): string {
  const real = contentTypeFor(name);
  return ACTIVE_CONTENT_TYPES.has(real) ? DEFAULT_CONTENT_TYPE : real;
}
