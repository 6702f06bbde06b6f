/**
 * Writing a response body: backpressure, bandwidth pacing and the body faults (dropConnection,
 * truncate, stall). Bytes flow from the source stream to the socket chunk by chunk; nothing is
 * buffered beyond a chunk, so a 4 GiB file costs no more memory than a small one.
 */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { FaultRule } from "./types";

export interface BodyOptions {
  /** Pace the body at this many bytes per second (token bucket). */
  bytesPerSecond?: number | undefined;
  /** dropConnection, truncate or stall, taking effect after `afterBytes` body bytes. */
  fault?: FaultRule | undefined;
}

/** A stall without latencyMs lasts until the client gives up, but never longer than this. */
const MAX_STALL_MS = 10 * 60 * 1000;

function closed(res: ServerResponse): boolean {
  return res.destroyed || res.socket === null || res.socket.destroyed;
}

/** Resolve on `event` or when the response closes, whichever comes first, leaving no listener behind. */
function eventOrClose(res: ServerResponse, event: "drain" | undefined): Promise<void> {
  if (closed(res)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("close", done);
      if (event) res.off(event, done);
      resolve();
    };
    res.on("close", done);
    if (event) res.on(event, done);
  });
}

/** Wait `ms`, or less if the response closes meanwhile (no timer is left running). */
function pause(res: ServerResponse, ms: number): Promise<void> {
  if (closed(res)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on("close", done);
  });
}

/** Write one chunk; resolve once it has been handed to the socket (flush) or the socket can take more. */
async function write(res: ServerResponse, chunk: Buffer, flush: boolean): Promise<void> {
  if (flush) {
    await Promise.race([
      new Promise<void>((resolve) => res.write(chunk, () => resolve())),
      eventOrClose(res, undefined),
    ]);
  } else if (!res.write(chunk)) {
    await eventOrClose(res, "drain");
  }
}

/**
 * Paces writes: a token bucket refilled at `rate` bytes/s with a burst of one slice. Computed from
 * the start time (not per sleep), so timer jitter does not accumulate.
 */
class Pacer {
  private readonly start = performance.now();
  readonly slice: number;

  constructor(private readonly rate: number) {
    // About 50 writes a second: smooth enough, and cheap even at high rates.
    this.slice = Math.max(4096, Math.floor(rate / 50));
  }

  async beforeSending(res: ServerResponse, sentSoFar: number, n: number): Promise<void> {
    const dueMs = ((sentSoFar + n - this.slice) / this.rate) * 1000;
    const waitMs = dueMs - (performance.now() - this.start);
    if (waitMs > 1) await pause(res, waitMs);
  }
}

/** Stream `source` into `res` (headers already set) and end it, honouring pacing and body faults. */
export async function writeBody(
  res: ServerResponse,
  source: Readable,
  opts: BodyOptions = {},
): Promise<void> {
  const pacer = opts.bytesPerSecond && opts.bytesPerSecond > 0 ? new Pacer(opts.bytesPerSecond) : undefined;
  let fault = opts.fault;
  const faultAt = fault ? (fault.afterBytes ?? 0) : Number.POSITIVE_INFINITY;
  let sent = 0;
  res.flushHeaders();
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let rest = chunk;
      while (rest.length > 0) {
        if (closed(res)) return;
        if (fault && sent >= faultAt) {
          if (fault.kind !== "stall") return await breakConnection(res, fault);
          await pause(res, fault.latencyMs ?? MAX_STALL_MS);
          fault = undefined; // a stall happens once; then the body continues
          continue;
        }
        let n = Math.min(rest.length, fault ? faultAt - sent : rest.length, pacer?.slice ?? rest.length);
        n = Math.max(n, 1);
        if (pacer) await pacer.beforeSending(res, sent, n);
        const reachingFault = fault !== undefined && sent + n >= faultAt;
        await write(res, rest.subarray(0, n), reachingFault);
        sent += n;
        rest = rest.subarray(n);
      }
    }
    // A fault point at or past the end of the body changes nothing: the whole body was sent.
    res.end();
  } catch {
    // The client went away or the source failed: nothing more to say on this connection.
    res.destroy();
  } finally {
    source.destroy();
  }
}

/** Answer with fewer bytes than declared: abruptly (dropConnection) or with a clean FIN (truncate). */
async function breakConnection(res: ServerResponse, fault: FaultRule): Promise<void> {
  const socket = res.socket;
  if (!socket) return;
  if (fault.kind === "dropConnection") {
    socket.destroy();
    return;
  }
  // truncate: everything written so far has been flushed (see write(..., flush)); close our side.
  socket.end();
  setTimeout(() => socket.destroy(), 1000).unref();
}
