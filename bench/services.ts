/**
 * The servers a benchmark run talks to, each in its own process so that a contender's CPU time and memory
 * are its own: the DingTalk sandbox (generated files, optionally throttled per connection), the
 * discarding S3 sink, and fauxqs. `startService()` runs this file as a child; the child prints one JSON line
 * describing itself and runs until it is killed or its parent goes away.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface GeneratedFile {
  name: string;
  size: number;
  seed: string;
}

export type ServiceConfig =
  | { kind: "sandbox"; files: GeneratedFile[]; bandwidthBytesPerSecond?: number | undefined }
  | { kind: "sink"; latencyMs?: number }
  | { kind: "fauxqs"; buckets: string[] };

export interface ServiceInfo {
  url: string;
  /** Sandbox only: host:port of the file host, and the dentry id of each generated file by name. */
  fileHost?: string;
  dentries?: Record<string, string>;
}

export interface Service {
  info: ServiceInfo;
  pid: number;
  stop(): Promise<void>;
}

/** Start one service as a child process (node + tsx, from the repository root) and wait for its JSON line. */
export async function startService(config: ServiceConfig): Promise<Service> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    cwd: ROOT,
    env: { ...process.env, BENCH_SERVICE: JSON.stringify(config) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const info = await firstLine(child, config.kind);
  return {
    info,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function firstLine(child: ChildProcess, kind: string): Promise<ServiceInfo> {
  let text = "";
  const stdout = child.stdout as NodeJS.ReadableStream;
  return new Promise<ServiceInfo>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const nl = text.indexOf("\n");
      if (nl === -1) return;
      stdout.off("data", onData);
      try {
        resolve(JSON.parse(text.slice(0, nl)) as ServiceInfo);
      } catch {
        reject(new Error(`${kind}: unexpected first line ${text.slice(0, nl)}`));
      }
    };
    stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${kind} exited (${code}) before it was ready`)));
  });
}

async function serve(config: ServiceConfig): Promise<{ info: ServiceInfo; close(): Promise<void> }> {
  switch (config.kind) {
    case "sandbox": {
      const { startSandbox } = await import("../sandbox/server.js");
      const sandbox = await startSandbox({
        port: 0,
        generatedFiles: config.files,
        bandwidthBytesPerSecond: config.bandwidthBytesPerSecond,
        // Long enough that no benchmark run needs fresh download info.
        urlTtlSeconds: 3600,
      });
      const dentries = Object.fromEntries(
        config.files.map((f) => [f.name, sandbox.dentryIdByPath(f.name) as string]),
      );
      return {
        info: { url: sandbox.url, fileHost: sandbox.fileHost, dentries },
        close: () => sandbox.close(),
      };
    }
    case "sink": {
      const { startSink } = await import("./s3-sink.js");
      const sink = await startSink({ latencyMs: config.latencyMs ?? 0 });
      return { info: { url: sink.url }, close: () => sink.close() };
    }
    case "fauxqs": {
      const { startLocalEmulator } = await import("../scripts/local-services.js");
      const server = await startLocalEmulator(0, { buckets: config.buckets });
      return {
        info: { url: `http://127.0.0.1:${server.port}` },
        close: () => server.stop(),
      };
    }
  }
}

if (process.env.BENCH_SERVICE && process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = JSON.parse(process.env.BENCH_SERVICE) as ServiceConfig;
  const service = await serve(config);
  process.stdout.write(`${JSON.stringify(service.info)}\n`);
  const stop = () => {
    service.close().finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  // The parent went away (its end of stdin closed): do not linger.
  process.stdin.on("end", stop);
  process.stdin.resume();
}
