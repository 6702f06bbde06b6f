/**
 * DingTalk's ids, as DingTalk issues them: opaque strings. A conversation id is base64 with "/", "+" and "="
 * (`cidOuTaLz7/D7zkkM/5PlrQQA==`), a unionId letters and digits, space and dentry ids long numeric strings.
 *
 * An id is checked only for what no DingTalk id holds: emptiness, excessive length, control characters, a
 * lone surrogate, being "." or "..". Encoding applies in the one place where an id becomes part of a URL
 * path (`urlPathSegment`) or of an S3 key (`keySegment`); both check the id again, as ids also come from
 * DingTalk's own answers.
 */
import { z } from "zod";

/** Real ids are under 100 characters; the cap keeps a hostile one out of keys, logs and URLs. */
export const MAX_ID_LENGTH = 256;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** C0, DEL and C1 (U+0080–U+009F): \p{Cc}. */
const CONTROL = /\p{Cc}/u;

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** The id problem of `value`, in words a sender can act on, or undefined when it is a usable id. */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return value === undefined ? "is required" : "must be a string";
  if (value.trim() === "") return "must not be empty";
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  if (CONTROL.test(value)) return "must not contain control characters";
  // JSON can carry one ("\ud800"), but it has no UTF-8 form, so it could not reach DingTalk as given.
  if (hasLoneSurrogate(value)) return "must be well-formed Unicode (it holds a lone surrogate)";
  // No DingTalk id is a dot segment, and in a URL path or an S3 key one would be dropped or climbed.
  if (value === "." || value === "..") return 'must not be "." or ".."';
  return undefined;
}

/** The schema of a DingTalk id (space, dentry, conversation, union id) in any request we accept. */
export function dingTalkId() {
  return z
    .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
    .trim()
    .superRefine((id, ctx) => {
      const problem = idProblem(id);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}

/** A DingTalk file version number (a dentry's `version`), in any request we accept. */
export const fileVersion = z
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .positive("must be positive")
  .max(Number.MAX_SAFE_INTEGER, "is too large");

function checkPathId(what: string, name: string, value: string): void {
  const problem = idProblem(value);
  if (problem) throw new TypeError(`${what}: ${name} ${problem}`);
}

/** An id as one encoded segment of a DingTalk URL path. */
export function urlPathSegment(name: string, value: string): string {
  checkPathId("DingTalk client", name, value);
  return encodeURIComponent(value);
}

/**
 * An id as one segment of an S3 key: "/", "\" and "%" are percent-encoded (so the segment stays one folder
 * and decoding is unambiguous); every other character, "+" and "=" included, is kept as it is. Numeric ids,
 * DingTalk's space and dentry ids, come out unchanged.
 */
export function keySegment(name: string, value: string): string {
  try {
    checkPathId("archive key", name, value);
  } catch (error) {
    throw new RangeError((error as Error).message);
  }
  return value.replace(/[%/\\]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The id a `keySegment` came from, or undefined when `segment` is not one (a stray object's key). */
export function idFromKeySegment(segment: string): string | undefined {
  if (/%(?!25|2F|5C)/i.test(segment)) return undefined;
  return segment.replace(/%(25|2F|5C)/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
