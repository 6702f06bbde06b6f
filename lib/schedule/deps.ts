import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createS3Client, createSqsClient } from "../aws";
import { meteredDingTalkClient } from "../budget/metered-client";
import { logger } from "../logging";
import { metrics } from "../metrics";
import type { ScheduleSettings } from "./config";
import type { ScheduleEventDeps } from "./handle";
import { dynamoScheduleState } from "./state";

/** Build the schedule function's clients, once per container (the app secret read from SSM in AWS). */
export async function createScheduleDeps(settings: ScheduleSettings): Promise<ScheduleEventDeps> {
  const dingtalk = await meteredDingTalkClient(settings, "archive-schedule");
  const { schedule } = settings;
  return {
    run: {
      dingtalk,
      s3: createS3Client(),
      sqs: createSqsClient(),
      bucket: settings.archive.bucket,
      prefix: settings.archive.prefix,
      archiveQueueUrl: schedule.archiveQueueUrl,
      scanQueueUrl: schedule.scanQueueUrl,
      defaultUnionId: settings.dingtalk.defaultUnionId,
      logger,
      metrics,
      // Runs remember their start in the budget's table, so the next one lists only what changed.
      state: settings.budget.tableName
        ? dynamoScheduleState(new DynamoDBClient({}), settings.budget.tableName)
        : undefined,
      fullListingEveryMs: schedule.fullListingEveryDays * 24 * 3600_000,
    },
    sources: schedule.sources,
    defaultUnionId: settings.dingtalk.defaultUnionId,
    stopMarginMs: schedule.stopMarginSeconds * 1000,
  };
}
