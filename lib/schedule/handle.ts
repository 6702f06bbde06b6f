/**
 * The archive-schedule function's one entry point, whatever invoked it:
 * - EventBridge schedule ("Scheduled Event"): start a run over ARCHIVE_SOURCES, or over `detail.sources`
 *   when the event brings them;
 * - a direct invoke, or a schedule whose target input is constant (`{"sources": [...]}`): the same; a
 *   payload that is a scan cursor continues that run;
 * - SQS (the scan queue): each record is a continuation (a cursor) of a run too big for one invocation.
 * Returns the run's summary (per record for SQS: a batch response; a failed record is redelivered).
 * Any other trigger (SNS, HTTP) is refused as every function refuses one (lib/triggers/dispatch.ts).
 */
import type { SQSEvent } from "aws-lambda";
import { ConfigError } from "../config/env";
import { invalidInput } from "../errors";
import { unwrapMessageBody } from "../triggers/detect";
import { type Delivery, eachRecord, triggerHandler } from "../triggers/dispatch";
import { parseOrThrow } from "../validation";
import { SCAN_MESSAGE_KIND, type ScanCursor, scanCursorSchema } from "./cursor";
import { continueRun, type RunDeps, type RunSummary, startRun } from "./run";
import { type ArchiveSource, parseSources, SourcesError } from "./sources";

export interface ScheduleEventDeps {
  /** Clients and settings of a run; `shouldStop` is bound per invocation here. */
  run: Omit<RunDeps, "shouldStop">;
  /** ARCHIVE_SOURCES (may be empty: then each event must bring its own). */
  sources: ArchiveSource[];
  /** DINGTALK_UNION_ID, needed by sources that name no operator. */
  defaultUnionId: string | undefined;
  /** List no further page when less than this much invocation time is left. */
  stopMarginMs: number;
}

export const handleScheduleEvent = triggerHandler(
  "archive-schedule",
  (context, getDeps: () => Promise<ScheduleEventDeps>) => {
    const ready = async () => {
      const deps = await getDeps();
      const run: RunDeps = {
        ...deps.run,
        shouldStop: () => context.getRemainingTimeInMillis() < deps.stopMarginMs,
      };
      return { deps, run };
    };
    return {
      sqs: async (sqs: SQSEvent) => {
        const { run } = await ready();
        return eachRecord(sqs, (record) =>
          continueRun(parseCursor(unwrapMessageBody(record.body).payload), run),
        );
      },
      eventbridge: async ({ payload }: Delivery) => {
        const { deps, run } = await ready();
        return begin(payload, "detail.sources", deps, run);
      },
      direct: async ({ payload }: Delivery) => {
        const { deps, run } = await ready();
        return begin(payload, "sources", deps, run);
      },
    };
  },
);

/** A cursor continues its run; anything else starts one over its `sources` or the configured ones. */
function begin(payload: unknown, where: string, deps: ScheduleEventDeps, run: RunDeps): Promise<RunSummary> {
  if (isObject(payload) && payload.kind === SCAN_MESSAGE_KIND) return continueRun(parseCursor(payload), run);
  const given = isObject(payload) ? payload.sources : undefined;
  let sources = deps.sources;
  if (given !== undefined) {
    try {
      sources = parseSources(given, where, deps.defaultUnionId);
    } catch (error) {
      if (!(error instanceof SourcesError)) throw error;
      throw invalidInput("archive schedule event", [{ field: where, problem: error.message }]);
    }
  }
  if (sources.length === 0) {
    throw new ConfigError([`ARCHIVE_SOURCES is empty and the event names no ${where}: nothing to archive`]);
  }
  return startRun(sources, run);
}

function parseCursor(payload: unknown): ScanCursor {
  return parseOrThrow(scanCursorSchema, payload, "archive scan continuation");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
