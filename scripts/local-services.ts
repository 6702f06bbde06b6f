/**
 * The local AWS side, started in-process: fauxqs (S3 + SQS) and dynalite (DynamoDB, for idempotency
 * records). Used by `npm start` and by integration tests (on ephemeral ports there).
 */
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { type FauxqsServer, startFauxqs } from "fauxqs";

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** Start dynalite (in memory) and create the idempotency table with the key Powertools uses (`id`). */
export async function startLocalDynamo(port: number, tableName: string): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  return {
    endpoint,
    client,
    stop: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Start fauxqs with the given buckets and queues (each queue may name its dead-letter queue). */
export async function startLocalEmulator(
  port: number,
  resources: {
    buckets?: string[];
    queues?: Array<{ name: string; deadLetter?: string; maxReceiveCount?: number }>;
  } = {},
): Promise<FauxqsServer> {
  // fauxqs binds every interface; its `host` option only names the host inside queue URLs (default localhost).
  const server = await startFauxqs({ port, logger: false });
  for (const bucket of resources.buckets ?? []) server.createBucket(bucket);
  for (const queue of resources.queues ?? []) {
    const attributes: Record<string, string> = { VisibilityTimeout: "180" };
    if (queue.deadLetter) {
      const dlq = server.createQueue(queue.deadLetter);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlq.queueArn,
        maxReceiveCount: queue.maxReceiveCount ?? 3,
      });
    }
    server.createQueue(queue.name, { attributes });
  }
  return server;
}
