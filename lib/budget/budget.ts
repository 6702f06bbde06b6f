/**
 * The monthly call budget: one DynamoDB item per China-time month, `{id: "dingtalk-call-budget#2026-11",
 * used, calls_<api>..., expiration}`, incremented atomically before every metered DingTalk call by every
 * function and CLI. The increment is conditional (`used < limit`), so concurrent workers together never make
 * more than the budget's calls: the one that would exceed it gets QuotaExhausted instead of calling.
 *
 * Part of the budget is kept for send-link (the user-facing path): every other call stops at
 * `limit - sendLinkReserve`, send-link at `limit`. So a backfill can never starve send-link.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { DingTalkApi } from "../dingtalk";
import { QuotaExhausted } from "./errors";
import { chinaMonth } from "./month";

export interface CallBudgetOptions {
  dynamo: DynamoDBClient;
  tableName: string;
  /** Metered calls per China-time month, all functions and CLIs together (> 0). */
  monthlyLimit: number;
  /** Calls only send-link may use (< monthlyLimit). */
  sendLinkReserve: number;
  /** Default Date.now: tests move the month. */
  now?: () => number;
}

export interface Spent {
  month: string;
  /** Calls counted this month, this one included. */
  used: number;
  /** What the caller may use in all: the budget, or the budget less the send-link reserve. */
  limit: number;
}

export interface CallBudget {
  /** Count one call of `api`, or throw QuotaExhausted (nothing counted) when the budget is spent. */
  spend(api: DingTalkApi): Promise<Spent>;
  readonly monthlyLimit: number;
}

/** Kept a little over a year, then DynamoDB's TTL removes the month's item (attribute `expiration`). */
const KEEP_SECONDS = 400 * 24 * 3600;

export function budgetItemId(month: string): string {
  return `dingtalk-call-budget#${month}`;
}

/** The one place that decides how much of the budget an API may use. */
export function limitFor(api: DingTalkApi, monthlyLimit: number, sendLinkReserve: number): number {
  return api === "sendFileLink" ? monthlyLimit : monthlyLimit - sendLinkReserve;
}

export function createCallBudget(options: CallBudgetOptions): CallBudget {
  const now = options.now ?? Date.now;
  return {
    monthlyLimit: options.monthlyLimit,
    async spend(api) {
      const at = now();
      const month = chinaMonth(at);
      const limit = limitFor(api, options.monthlyLimit, options.sendLinkReserve);
      try {
        const answer = await options.dynamo.send(
          new UpdateItemCommand({
            TableName: options.tableName,
            Key: { id: { S: budgetItemId(month) } },
            UpdateExpression:
              "ADD #used :one, #api :one SET #expiration = if_not_exists(#expiration, :expiration)",
            ConditionExpression: "attribute_not_exists(#used) OR #used < :limit",
            ExpressionAttributeNames: {
              "#used": "used",
              "#api": `calls_${api}`,
              "#expiration": "expiration",
            },
            ExpressionAttributeValues: {
              ":one": { N: "1" },
              ":limit": { N: String(limit) },
              ":expiration": { N: String(Math.floor(at / 1000) + KEEP_SECONDS) },
            },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        return { month, used: Number(answer.Attributes?.used?.N ?? 0), limit };
      } catch (error) {
        const refused =
          error instanceof ConditionalCheckFailedException ||
          (error as Error).name === "ConditionalCheckFailedException";
        if (!refused) throw error;
        const what = api === "sendFileLink" ? "budget" : `budget less the send-link reserve (${limit} calls)`;
        throw new QuotaExhausted({
          source: "budget",
          now: at,
          message: `DINGTALK_MONTHLY_CALL_BUDGET is spent for ${month} (China time): the ${what} is used up; DingTalk calls resume when the month turns`,
          cause: error,
        });
      }
    },
  };
}
