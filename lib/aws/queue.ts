import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** SQS caps a message's delay at 15 minutes. */
export const MAX_DELAY_SECONDS = 900;

/** Put one JSON message on a queue, optionally delayed (capped at SQS's 15 minutes); returns its message id. */
export async function enqueue(
  sqs: SQSClient,
  queueUrl: string,
  message: unknown,
  delaySeconds = 0,
): Promise<string> {
  const answer = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: sqsSafeJson(message),
      DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.ceil(delaySeconds))),
    }),
  );
  if (!answer.MessageId) throw new Error("SQS accepted the message but returned no MessageId");
  return answer.MessageId;
}

/**
 * JSON that SQS accepts. SQS refuses a body with characters outside #x9 | #xA | #xD | #x20-#xD7FF |
 * #xE000-#xFFFD | #x10000-#x10FFFF. JSON.stringify already escapes control characters and lone surrogates;
 * the noncharacters U+FFFE and U+FFFF it leaves raw (an id or an echoed body may hold them), so they are
 * escaped here, and so are surrogate pairs (#x10000 and up: emoji, rare CJK), which AWS accepts but the local
 * emulator (fauxqs) refuses. JSON.parse reads every escape back to the same characters.
 */
export function sqsSafeJson(message: unknown): string {
  return JSON.stringify(message).replace(
    /[\ud800-\udfff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}
