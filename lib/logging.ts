import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";

/**
 * One structured (JSON) logger for the whole bundle, built once per cold start and imported everywhere,
 * as Powertools' examples do. Level from POWERTOOLS_LOG_LEVEL (default INFO).
 */
export const logger = new PowertoolsLogger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "dingtalk-file-bridge",
});

/**
 * The subset of a logger the libraries use (the DingTalk client, the archive, the schedule's scan): a
 * message and structured extras. Powertools' Logger and console both fit (hence the rest parameter:
 * Powertools types its extras as a list); the CLIs pass their own.
 */
export interface Logger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
