/**
 * Reproduction: a file host that ends the connection (FIN, `Connection: close`) while the engine is not
 * reading the range body (S3 slower than the download: backpressure pauses undici's HTTP parser) crashes the
 * process with an uncatchable `AssertionError: assert(!this.paused)` from undici's socket "end" handler
 * (nodejs/undici#5360, fixed in undici 8 by nodejs/undici#5474; 7.30.2, the last 7.x, still has it). The
 * project is on undici 8 since; test/chaos/undici-paused-fin.test.ts runs this to keep it so.
 *
 *   node --import tsx chaos/repro/paused-fin.ts     → "survived" (exit 0), or the crash (exit 1)
 *
 * The chaos campaign hits it when a `truncate` fault (the sandbox closes such answers) meets a slow S3.
 */
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Agent } from "undici";
import { openRange } from "../../lib/transfer/range-fetch";

const size = 4 * 1024 * 1024;
const body = Buffer.alloc(size, 0x61);
const server = createServer((socket) => {
  socket.once("data", () => {
    socket.write(
      `HTTP/1.1 206 Partial Content\r\nContent-Length: ${size}\r\n` +
        `Content-Range: bytes 0-${size - 1}/${size}\r\nConnection: close\r\n\r\n`,
    );
    socket.end(body); // the whole body, then FIN
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as { port: number };
const dispatcher = new Agent();
const tap = await openRange({
  url: new URL(`http://127.0.0.1:${port}/file`),
  headers: {},
  range: { start: 0, end: size - 1 },
  size,
  algorithm: "CRC32",
  dispatcher,
  headersTimeoutMs: 5_000,
  idleTimeoutMs: 5_000,
});
// A slow S3: it takes each chunk a little late, so undici's parser keeps pausing, down to the last chunk.
let bytes = 0;
const slowS3 = new Writable({
  highWaterMark: 16 * 1024,
  write(chunk: Buffer, _encoding, done) {
    bytes += chunk.length;
    setTimeout(done, 2);
  },
});
await pipeline(tap, slowS3);
console.log(`survived: read ${bytes} of ${size} bytes`);
await dispatcher.close();
server.close();
