/**
 * What a scheduled run leaves for the next one, per space and operator: when the last complete run started
 * (an incremental run lists only what changed since then) and when the last full listing started (a full one
 * reconciles every ARCHIVE_FULL_LISTING_DAYS). One DynamoDB item per space and operator, in the budget's
 * table: `{id: "archive-schedule#<spaceId>#<unionId>", lastCompleteRunStartedAt, lastFullRunStartedAt}`.
 */
import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";

export interface SpaceRunState {
  /** ISO time the last complete run over the space started. */
  lastCompleteRunStartedAt?: string | undefined;
  /** ISO time the last complete full listing of the space started. */
  lastFullRunStartedAt?: string | undefined;
}

export interface ScheduleStateStore {
  get(spaceId: string, unionId: string): Promise<SpaceRunState>;
  /** Record a completed run that started at `startedAt` (a full listing when `full`). */
  recordComplete(spaceId: string, unionId: string, startedAt: string, full: boolean): Promise<void>;
}

function itemId(spaceId: string, unionId: string): string {
  return `archive-schedule#${spaceId}#${unionId}`;
}

export function dynamoScheduleState(dynamo: DynamoDBClient, tableName: string): ScheduleStateStore {
  return {
    async get(spaceId, unionId) {
      const answer = await dynamo.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { id: { S: itemId(spaceId, unionId) } },
          ConsistentRead: true,
        }),
      );
      return {
        lastCompleteRunStartedAt: answer.Item?.lastCompleteRunStartedAt?.S,
        lastFullRunStartedAt: answer.Item?.lastFullRunStartedAt?.S,
      };
    },
    async recordComplete(spaceId, unionId, startedAt, full) {
      // Only ever moves forward: a slow, older run finishing late must not rewind the watermark.
      const set = full
        ? "SET lastCompleteRunStartedAt = :at, lastFullRunStartedAt = :at"
        : "SET lastCompleteRunStartedAt = :at";
      try {
        await dynamo.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { id: { S: itemId(spaceId, unionId) } },
            UpdateExpression: set,
            ConditionExpression:
              "attribute_not_exists(lastCompleteRunStartedAt) OR lastCompleteRunStartedAt < :at",
            ExpressionAttributeValues: { ":at": { S: startedAt } },
          }),
        );
      } catch (error) {
        if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
      }
    },
  };
}
