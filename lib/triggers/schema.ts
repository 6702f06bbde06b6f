import { z } from "zod";

/**
 * Building blocks for the schemas of jobs, whatever trigger brings them. Messages name the field's
 * problem in words a sender can act on ("is required", "must be a string").
 */

/** The id rules live with DingTalk's client (lib/dingtalk/ids.ts); re-exported for the trigger schemas. */
export { dingTalkId } from "../dingtalk/ids";

export const fileVersion = z
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .positive("must be positive")
  .max(Number.MAX_SAFE_INTEGER, "is too large");
