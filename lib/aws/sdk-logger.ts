import { logger } from "../logging";

/**
 * The SDK's own warnings and errors (e.g. a failed streaming request) go to our structured log instead
 * of the console; its info lines (one per request, with the input) are dropped as noise.
 */
export const sdkLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => logger.warn("AWS SDK warning", { detail: content.map(String).join(" ") }),
  error: (...content: unknown[]) => logger.error("AWS SDK error", { detail: content.map(String).join(" ") }),
};
