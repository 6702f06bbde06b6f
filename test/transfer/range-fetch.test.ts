/**
 * Unit checks of the range validator. These use a tiny node:http server written here, not the sandbox,
 * because they need answers no well-behaved file host gives (a wrong Content-Range, a wrong total, a
 * Content-Length that disagrees, an echo of the request headers). The engine's behaviour on real faults
 * is tested end to end against the sandbox in transfer.test.ts.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crcOf } from "../../lib/transfer/index.js";
import { FetchProblem, openRange, readInto } from "../../lib/transfer/range-fetch.js";

const SIZE = 1000;
const content = Buffer.from(Array.from({ length: SIZE }, (_, i) => i % 251));
let lastHeaders: IncomingHttpHeaders = {};
let server: Server;
let base: string;
const agent = new Agent();

type Handler = (res: ServerResponse, start: number, end: number) => void;
const handlers: Record<string, Handler> = {
  good: (res, s, e) => {
    res.writeHead(206, { "content-range": `bytes ${s}-${e}/${SIZE}`, "content-length": e - s + 1 });
    res.end(content.subarray(s, e + 1));
  },
  wrongRange: (res, s, e) => {
    res.writeHead(206, { "content-range": `bytes ${s + 1}-${e + 1}/${SIZE}` });
    res.end(content.subarray(s + 1, e + 2));
  },
  otherTotal: (res, s, e) => {
    res.writeHead(206, { "content-range": `bytes ${s}-${e}/${SIZE + 5}` });
    res.end(content.subarray(s, e + 1));
  },
  wrongLength: (res, s, e) => {
    res.writeHead(206, { "content-range": `bytes ${s}-${e}/${SIZE}`, "content-length": e - s });
    res.end(content.subarray(s, e));
  },
  whole: (res) => {
    res.writeHead(200, { "content-length": SIZE });
    res.end(content);
  },
  wholeOtherSize: (res) => {
    res.writeHead(200, { "content-length": SIZE - 1 });
    res.end(content.subarray(1));
  },
  longer: (res, s, e) => {
    // Chunked, so the server can send more than the range: the tap must refuse the extra bytes.
    res.writeHead(206, { "content-range": `bytes ${s}-${e}/${SIZE}` });
    res.end(Buffer.concat([content.subarray(s, e + 1), Buffer.from("extra")]));
  },
  shortChunked: (res, s, e) => {
    res.writeHead(206, { "content-range": `bytes ${s}-${e}/${SIZE}` });
    res.end(content.subarray(s, e)); // one byte short, ended cleanly
  },
  forbidden: (res) => {
    res.writeHead(403).end("<Error><Code>AccessDenied</Code></Error>");
  },
  missing: (res) => {
    res.writeHead(404).end();
  },
  unavailable: (res) => {
    res.writeHead(503).end();
  },
  unsatisfiable: (res) => {
    res.writeHead(416).end();
  },
  redirect: (res) => {
    res.writeHead(302, { location: "http://169.254.169.254/" }).end();
  },
  stall: (res, s, e) => {
    res.writeHead(206, { "content-range": `bytes ${s}-${e}/${SIZE}`, "content-length": e - s + 1 });
    res.write(content.subarray(s, s + 10)); // then nothing
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    lastHeaders = req.headers;
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
    const handler = handlers[new URL(req.url ?? "/", base).pathname.slice(1)] as Handler;
    handler(res, Number(m?.[1] ?? 0), Number(m?.[2] ?? SIZE - 1));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function open(
  path: string,
  range: { start: number; end: number } | null = { start: 100, end: 199 },
  idleTimeoutMs = 5000,
) {
  return openRange({
    url: new URL(`${base}/${path}`),
    headers: {
      Authorization: "OSS sandbox:sig",
      "x-oss-date": "today",
      "Accept-Encoding": "gzip",
      range: "x",
    },
    range,
    size: SIZE,
    algorithm: "CRC32",
    dispatcher: agent,
    headersTimeoutMs: 5000,
    idleTimeoutMs,
  });
}

async function problem(promise: Promise<unknown>): Promise<FetchProblem> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(FetchProblem);
    return err as FetchProblem;
  }
  throw new Error("no problem raised");
}

const read = async (path: string, range?: { start: number; end: number } | null, idle?: number) => {
  const tap = await open(path, range, idle);
  return { tap, body: await readInto(tap, Buffer.alloc(SIZE)) };
};

describe("openRange", () => {
  it("sends the download headers unchanged, plus Range and Accept-Encoding: identity (replacing theirs)", async () => {
    const { tap, body } = await read("good");
    expect(lastHeaders.authorization).toBe("OSS sandbox:sig");
    expect(lastHeaders["x-oss-date"]).toBe("today");
    expect(lastHeaders.range).toBe("bytes=100-199");
    expect(lastHeaders["accept-encoding"]).toBe("identity");
    expect(body.equals(content.subarray(100, 200))).toBe(true);
    expect(tap.bytes).toBe(100);
    expect(tap.crcValue()).toBe(crcOf("CRC32", content.subarray(100, 200)));
  });

  it("without a range (0-byte files, the fallback) sends no Range and accepts 200", async () => {
    const { body } = await read("whole", null);
    expect(lastHeaders.range).toBeUndefined();
    expect(body.equals(content)).toBe(true);
  });

  it("accepts a 200 for a range that is the whole file (a one-part file on a host ignoring Range)", async () => {
    const { body } = await read("whole", { start: 0, end: SIZE - 1 });
    expect(body.length).toBe(SIZE);
  });

  it.each([
    ["whole", "rangeIgnored", 200],
    ["wrongRange", "retryable", 206],
    ["otherTotal", "sizeMismatch", 206],
    ["wrongLength", "retryable", 206],
    ["wholeOtherSize", "sizeMismatch", 200],
    ["forbidden", "expired", 403],
    ["missing", "fatal", 404],
    ["unavailable", "retryable", 503],
    ["unsatisfiable", "sizeMismatch", 416],
    ["redirect", "fatal", 302],
  ])("%s → %s", async (path, kind, status) => {
    const range = path === "wholeOtherSize" ? null : undefined;
    const p = await problem(open(path, range));
    expect(p.kind).toBe(kind);
    expect(p.status).toBe(status);
    expect(p.message).toContain(`${base}/${path}`);
  });

  it("fails the body when it is longer or shorter than the range", async () => {
    expect((await problem(read("longer"))).message).toMatch(/longer than the 100 bytes/);
    expect((await problem(read("shortChunked"))).message).toMatch(/truncated: 99 of 100/);
  });

  it("fails a stalled body after the idle timeout", async () => {
    const started = Date.now();
    const p = await problem(read("stall", undefined, 1000));
    expect(p.kind).toBe("retryable");
    expect(p.message).toMatch(/timeout/i);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("never puts the query of a signed URL into a message", async () => {
    const tap = openRange({
      url: new URL(`${base}/forbidden?Expires=1&Signature=SECRET`),
      headers: {},
      range: { start: 0, end: 9 },
      size: SIZE,
      algorithm: "CRC32",
      dispatcher: agent,
      headersTimeoutMs: 5000,
      idleTimeoutMs: 5000,
    });
    const p = await problem(tap);
    expect(p.message).not.toContain("SECRET");
    expect(p.message).not.toContain("Expires");
  });
});
