import { createS3Client, createSqsClient } from "../aws";
import { dingTalkClientFromConfig } from "../dingtalk";
import { logger } from "../logging";
import { metrics } from "../metrics";
import type { ScheduleSettings } from "./config";
import type { ScheduleEventDeps } from "./handle-event";

/** The container's one Metrics instance (lib/metrics.ts); the handler's middleware flushes it. */
export { metrics };

/** Build the schedule function's clients, once per container (the app secret read from SSM in AWS). */
export async function createScheduleDeps(settings: ScheduleSettings): Promise<ScheduleEventDeps> {
  const dingtalk = await dingTalkClientFromConfig(settings.dingtalk, logger);
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
    },
    sources: schedule.sources,
    defaultUnionId: settings.dingtalk.defaultUnionId,
    stopMarginMs: schedule.stopMarginSeconds * 1000,
  };
}
