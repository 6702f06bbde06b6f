import { CLIENT_CODES, type DingTalkClient, isDingTalkError, type SendFileLinkResult } from "../dingtalk";
import { dingTalkId } from "../dingtalk/ids";
import { AppError } from "../errors";
import * as z from "../schema";
import { unionIdRefusal } from "../union-ids";

export const sendLinkRequestSchema = z.strictObject(
  {
    spaceId: dingTalkId(),
    dentryId: dingTalkId(),
    openConversationId: dingTalkId(),
    unionId: z.optional(dingTalkId()),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown field(s): ${issue.keys.join(", ")}`
        : "must be a JSON object",
  },
);

export type SendLinkRequest = z.output<typeof sendLinkRequestSchema>;

export interface SendLinkDeps {
  dingtalk: Pick<DingTalkClient, "sendFileLink">;
  /** DINGTALK_UNION_ID: the operator used when a request names none. */
  defaultUnionId: string | undefined;
  /** ALLOWED_UNION_IDS: the only union ids a request may name. */
  allowedUnionIds: readonly string[];
}

/**
 * Send a DingTalk file's link into a conversation, as the request's operator or the default one. With a
 * `deadline` (epoch ms) no attempt starts that could end after it: it is not sent rather than sent unrecorded.
 */
export async function sendLink(
  request: SendLinkRequest,
  deps: SendLinkDeps,
  deadline?: number,
): Promise<SendFileLinkResult> {
  const refusal = unionIdRefusal(request.unionId, deps.allowedUnionIds);
  if (refusal) throw refusal;
  const unionId = request.unionId ?? deps.defaultUnionId;
  if (!unionId) {
    throw new AppError(
      400,
      "InvalidRequest",
      "unionId is required: the request names none and DINGTALK_UNION_ID is not set",
      {
        details: { fields: [{ field: "unionId", problem: "is required" }] },
      },
    );
  }
  return deps.dingtalk.sendFileLink(
    {
      unionId,
      spaceId: request.spaceId,
      dentryId: request.dentryId,
      openConversationId: request.openConversationId,
    },
    { deadline },
  );
}

/**
 * What is stored under a request's idempotency key: the link was sent (DingTalk's answer as it came), or the
 * send went out and its outcome is unknown. Storing the second too is what keeps a redelivery (same
 * webhook-id, message id, event id) from posting the link again: it gets the same answer instead.
 */
export type SendLinkOutcome =
  | { outcome: "sent"; answer: SendFileLinkResult }
  | { outcome: "unknown"; message: string; requestId?: string };

/** `sendLink`, with an unknown outcome returned (so it is recorded) instead of thrown. */
export async function sendLinkRecordingOutcome(
  request: SendLinkRequest,
  deps: SendLinkDeps,
  deadline?: number,
): Promise<SendLinkOutcome> {
  try {
    return { outcome: "sent", answer: await sendLink(request, deps, deadline) };
  } catch (error) {
    if (!isDingTalkError(error) || error.code !== CLIENT_CODES.outcomeUnknown) throw error;
    return {
      outcome: "unknown",
      message: error.message,
      ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
    };
  }
}

/** DingTalk's answer for a sent link; an unknown outcome is HTTP 502 `outcomeUnknown` (a person decides). */
export function answerOf(recorded: SendLinkOutcome): SendFileLinkResult {
  if (recorded.outcome === "sent") return recorded.answer;
  throw new AppError(502, CLIENT_CODES.outcomeUnknown, recorded.message, { requestId: recorded.requestId });
}
