/**
 * One "Lambda container" of the archive function for test/load/archive-workers.ts: a process that imports the
 * real handler (functions/archive/handler.ts, configured by the environment it is given) and feeds it from
 * the archive queue as Lambda's SQS event source mapping does with batchSize 1: receive one message, invoke
 * the handler with an SQS event, delete the message unless the handler reported it as a batch item failure
 * (then it comes back after its visibility timeout). Several such processes = the mapping's
 * maximumConcurrency.
 *
 * stdout: one JSON line per job start and end, for the parent to count jobs running at once. Ends after the
 * job in hand when stdin closes.
 */
import { randomUUID } from "node:crypto";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";

const queueUrl = process.env.ARCHIVE_QUEUE_URL as string;
const sqs = new SQSClient({});
const { handler } = (await import("../../functions/archive/handler")) as {
  handler: (event: unknown, context: Context) => Promise<unknown>;
};

let stopping = false;
process.stdin.on("close", () => {
  stopping = true;
});
process.stdin.resume();

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
say({ event: "ready" });

while (!stopping) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ["All"],
    }),
  );
  const message = Messages[0];
  if (!message?.MessageId || !message.ReceiptHandle) continue;
  say({ event: "start", id: message.MessageId });
  const started = Date.now();
  const event: SQSEvent = {
    Records: [
      {
        messageId: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body: message.Body ?? "",
        attributes: {
          ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? "1",
          SentTimestamp: message.Attributes?.SentTimestamp ?? String(started),
          SenderId: "load-test",
          ApproximateFirstReceiveTimestamp: String(started),
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:archive",
        awsRegion: "us-east-1",
      },
    ],
  };
  const context = {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "dingtalk-file-bridge-load-archive",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:dingtalk-file-bridge-load-archive",
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: "/aws/lambda/dingtalk-file-bridge-load-archive",
    logStreamName: "load",
    getRemainingTimeInMillis: () => 900_000 - (Date.now() - started),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } satisfies Context;
  let failed = true;
  try {
    const result = (await handler(event, context)) as SQSBatchResponse | undefined;
    failed = (result?.batchItemFailures ?? []).some((f) => f.itemIdentifier === message.MessageId);
  } catch {
    failed = true; // the invocation failed: SQS redelivers the whole batch
  }
  if (!failed) {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }
  say({ event: "end", id: message.MessageId, failed });
}
sqs.destroy();
process.exit(0);
