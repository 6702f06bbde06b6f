import { z } from "zod";
import type { DingTalkClient, SendFileLinkResult } from "../dingtalk";
import { AppError } from "../errors";
import { dingTalkId } from "../triggers/schema";
import { unionIdRefusal } from "../union-ids";

export const sendLinkRequestSchema = z.strictObject(
  {
    spaceId: dingTalkId(),
    dentryId: dingTalkId(),
    openConversationId: dingTalkId(),
    unionId: dingTalkId().optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown field(s): ${issue.keys.join(", ")}`
        : "must be a JSON object",
  },
);

export type SendLinkRequest = z.infer<typeof sendLinkRequestSchema>;

export interface SendLinkDeps {
  dingtalk: Pick<DingTalkClient, "sendFileLink">;
  /** DINGTALK_UNION_ID: the operator used when a request names none. */
  defaultUnionId: string | undefined;
  /** ALLOWED_UNION_IDS: the only union ids a request may name. */
  allowedUnionIds: readonly string[];
}

/** Send a DingTalk file's link into a conversation, as the request's operator or the default one. */
export async function sendLink(request: SendLinkRequest, deps: SendLinkDeps): Promise<SendFileLinkResult> {
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
  return deps.dingtalk.sendFileLink({
    unionId,
    spaceId: request.spaceId,
    dentryId: request.dentryId,
    openConversationId: request.openConversationId,
  });
}
