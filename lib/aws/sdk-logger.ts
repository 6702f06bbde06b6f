import { inspect } from "node:util";
import { logger } from "../logging";

/** SDK log arguments as one readable line: errors by their message, objects shallowly inspected. */
function describe(content: unknown[]): string {
  return content
    .map((item) => {
      if (typeof item === "string") return item;
      if (item instanceof Error) return `${item.name}: ${item.message}`;
      return inspect(item, { depth: 2, breakLength: Number.POSITIVE_INFINITY });
    })
    .join(" ");
}

/**
 * The SDK's own warnings and errors (e.g. a failed streaming request) go to our structured log instead
 * of the console; its info lines (one per request, with the input) are dropped as noise.
 */
export const sdkLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => logger.warn("AWS SDK warning", { detail: describe(content) }),
  error: (...content: unknown[]) => logger.error("AWS SDK error", { detail: describe(content) }),
};
