import { AppError } from "./errors";

/** The code of a request naming a union id outside ALLOWED_UNION_IDS. */
export const UNION_ID_NOT_ALLOWED = "unionIdNotAllowed";

/**
 * Whom a request may act as. A union id is a DingTalk user: whoever may call a webhook or publish to the queue,
 * bus or topic would otherwise act with any employee's permissions. A request naming no union id runs as
 * DINGTALK_UNION_ID (always allowed); one naming another is refused (403) before any DingTalk call. Answers
 * the refusal, or undefined when the request may go ahead.
 */
export function unionIdRefusal(
  unionId: string | undefined,
  allowed: readonly string[],
): AppError | undefined {
  if (unionId === undefined || allowed.includes(unionId)) return undefined;
  return new AppError(
    403,
    UNION_ID_NOT_ALLOWED,
    "unionId is not one this deployment may act as (ALLOWED_UNION_IDS)",
    { details: { fields: [{ field: "unionId", problem: "is not in ALLOWED_UNION_IDS" }] } },
  );
}
