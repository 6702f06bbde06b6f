import { lambdaHandler } from "../../lib/lambda-handler";
import { loadScheduleSettings } from "../../lib/schedule/config";
import { createScheduleDeps } from "../../lib/schedule/deps";
import { handleScheduleEvent } from "../../lib/schedule/handle";

/**
 * archive-schedule: incremental archive runs over whole spaces and folders. Started by an EventBridge
 * schedule (or a direct invoke); a run too big for one invocation continues through the scan queue.
 * A bad variable (ARCHIVE_SOURCES included) fails the init with a message naming it.
 */
export const handler = lambdaHandler({
  loadSettings: loadScheduleSettings,
  createDeps: createScheduleDeps,
  handle: handleScheduleEvent,
});
