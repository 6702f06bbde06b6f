import { z } from "zod";

/**
 * Building blocks for the schemas of jobs, whatever trigger brings them. Messages name the field's
 * problem in words a sender can act on ("is required", "must be a string").
 */

/**
 * A DingTalk id (space, dentry, conversation, union id): a short, printable string. Not "." or "..": a URL
 * path drops or climbs them (percent-encoding does not change that), so the call would go elsewhere. No lone
 * surrogate: JSON can carry one ("\ud800"), but it has no UTF-8 form, so it could not reach DingTalk as given.
 */
export function dingTalkId() {
  return z
    .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
    .trim()
    .min(1, "must not be empty")
    .max(256, "must be at most 256 characters")
    .refine((id) => !hasControlOrSlash(id), "must not contain control characters or slashes")
    .refine((id) => id !== "." && id !== "..", 'must not be "." or ".."')
    .refine((id) => !LONE_SURROGATE.test(id), "must be well-formed Unicode (it holds a lone surrogate)");
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Ids go into URL paths and S3 keys: no control characters, no path separators. */
function hasControlOrSlash(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    // C0, DEL and C1 (U+0080–U+009F): the control characters (\p{Cc}) lib/archive refuses in a key.
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || char === "/" || char === "\\") return true;
  }
  return false;
}

export const fileVersion = z
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .positive("must be positive")
  .max(Number.MAX_SAFE_INTEGER, "is too large");
