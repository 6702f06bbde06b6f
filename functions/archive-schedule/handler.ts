import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";
import { loadScheduleSettings } from "../../lib/schedule/config";
import { createScheduleDeps } from "../../lib/schedule/deps";
import { handleScheduleEvent } from "../../lib/schedule/handle";

// Validated at cold start: a bad variable (ARCHIVE_SOURCES included) fails the init with a message naming it.
const settings = loadScheduleSettings();
const deps = lazy(() => createScheduleDeps(settings));

/**
 * archive-schedule: incremental archive runs over whole spaces and folders. Started by an EventBridge
 * schedule (or a direct invoke); a run too big for one invocation continues through the scan queue.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(async (event: unknown, context: Context) => handleScheduleEvent(event, context, deps));
