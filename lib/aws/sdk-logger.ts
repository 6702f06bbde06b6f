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
 * The SDK's own warnings go to our structured log instead of the console; its info lines (one per request,
 * with the input) are dropped as noise. Its error lines are DEBUG: the SDK logs every failed command with its
 * input, yet the failure also reaches the caller, which decides what it means — HeadObject's 404 is the
 * normal "not archived yet", a failed part is retried (one WARN line from the engine). ERROR is kept for
 * what actually failed the archive or the send.
 */
export const sdkLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => logger.warn("AWS SDK warning", { detail: describe(content) }),
  error: (...content: unknown[]) => logger.debug("AWS SDK call failed", { detail: describe(content) }),
};
