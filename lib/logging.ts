import { Logger } from "@aws-lambda-powertools/logger";

/**
 * One structured (JSON) logger for the whole bundle, built once per cold start and imported everywhere,
 * as Powertools' examples do. Level from POWERTOOLS_LOG_LEVEL (default INFO).
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "dingtalk-file-bridge",
});
