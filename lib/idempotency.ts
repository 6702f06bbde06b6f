import type { JSONValue } from "@aws-lambda-powertools/commons/types";
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";
import type { IdempotencyConfig as IdempotencySettings } from "./config";

/** What an idempotent operation is called with: the sender's key and the request it names. */
export interface KeyedRequest<T> {
  /** The sender's id for this delivery (`webhook-id`, an SQS message id, an EventBridge event id). */
  key: string;
  request: T;
  /**
   * When the operation must be done (epoch ms), e.g. before the invocation ends; handed to the operation, not
   * part of the key or of the request a redelivery is compared on.
   */
  deadline?: number | undefined;
}

export interface Idempotent<T, R> {
  (input: KeyedRequest<T>): Promise<R>;
  /** Lets Powertools bound an in-progress record by the invocation's remaining time. */
  registerLambdaContext(context: Context): void;
}

/**
 * Run `operation` at most once per key (Powertools idempotency over DynamoDB): a redelivery with the
 * same key gets the first result back without running it again; the same key with a different
 * request is refused (IdempotencyValidationError). A failure stores nothing, so a retry runs again.
 * `scope` keeps operations of different kinds apart in one table.
 */
export function idempotentByKey<T extends JSONValue, R>(
  scope: string,
  operation: (request: T, deadline: number | undefined) => Promise<R>,
  settings: IdempotencySettings,
): Idempotent<T, R> {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "key",
    payloadValidationJmesPath: "request",
    expiresAfterSeconds: settings.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
  });
  const run = makeIdempotent(async (input: KeyedRequest<T>) => operation(input.request, input.deadline), {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: settings.tableName }),
    config,
    keyPrefix: scope,
  });
  return Object.assign((input: KeyedRequest<T>) => run(input), {
    registerLambdaContext: (context: Context) => config.registerLambdaContext(context),
  });
}
