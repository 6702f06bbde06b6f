import { z } from "zod";

/**
 * Building blocks for the schemas of jobs, whatever trigger brings them. Messages name the field's
 * problem in words a sender can act on ("is required", "must be a string").
 */

/** A DingTalk id (space, dentry, conversation, union id): a short, printable string. */
export function dingTalkId() {
  return z
    .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
    .trim()
    .min(1, "must not be empty")
    .max(256, "must be at most 256 characters")
    .regex(/^[^\u0000-\u001f\u007f/\\]+$/, "must not contain control characters or slashes");
}

export const fileVersion = z
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .positive("must be positive")
  .max(Number.MAX_SAFE_INTEGER, "is too large");
