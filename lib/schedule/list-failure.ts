/**
 * What a failed folder listing means for the run (the DingTalk client has already retried what it could):
 * - `folder`: this folder cannot be listed (gone, no permission): count it failed, go on with the others;
 * - `space`: the space is gone: drop every folder of it;
 * - `token`: DingTalk refused the page token (stale after a pause): list the folder again from page one;
 * - `retry`: DingTalk is unavailable for now (throttled, busy, IP ban): continue from here after a delay;
 * - `quota`: the month's DingTalk calls are spent (our budget or DingTalk's quota): wait for the month;
 * - `run`: nothing else will succeed either (bad credentials): end the run;
 * - `rethrow`: not a DingTalk answer (a bug): let it fail the invocation.
 */
import { quotaExhaustedIn } from "../budget/errors";
import { isDingTalkError } from "../dingtalk";
import type { FolderTask } from "./cursor";

export type ListFailureScope = "folder" | "space" | "token" | "retry" | "quota" | "run" | "rethrow";

export interface ListFailure {
  scope: ListFailureScope;
  code: string;
  message: string;
  requestId?: string | undefined;
  /** For `retry`: how long DingTalk asked us to wait, when it said; for `quota`: until the month turns. */
  retryAfterMs?: number | undefined;
}

/** Failures that would repeat for every other folder too. */
const RUN_CODES = new Set(["invalidClientIdOrSecret", "orgAuthLevelNotEnough"]);

export function classifyListFailure(error: unknown, task: FolderTask): ListFailure {
  const quota = quotaExhaustedIn(error);
  if (quota) {
    const { code, message, requestId, retryAfterMs } = quota;
    return { scope: "quota", code, message, requestId, retryAfterMs };
  }
  if (!isDingTalkError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return { scope: "rethrow", code: "Unexpected", message };
  }
  const bare = error.code.replace(/^Forbidden\.AccessDenied\./, "");
  const base = { code: error.code, message: error.message, requestId: error.requestId };
  if (RUN_CODES.has(bare)) return { ...base, scope: "run" };
  if (error.retryable) return { ...base, scope: "retry", retryAfterMs: error.retryAfterMs };
  if (bare === "spaceNotExist") return { ...base, scope: "space" };
  if (task.nextToken && bare.startsWith("paramError")) return { ...base, scope: "token" };
  return { ...base, scope: "folder" };
}
