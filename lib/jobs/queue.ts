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
      MessageBody: JSON.stringify(message),
      DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.ceil(delaySeconds))),
    }),
  );
  if (!answer.MessageId) throw new Error("SQS accepted the message but returned no MessageId");
  return answer.MessageId;
}
