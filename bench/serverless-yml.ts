/**
 * What the benchmark needs to know of serverless.yml, read in one place: each function's handler, whether an
 * httpApi event reaches it, and the NODE_OPTIONS and memorySize it is deployed with (its own, else the
 * provider's). The cold-start measurement and the archive worker's settings (bench/worker-options.ts) both
 * read it from here, so they cannot disagree, and the file is read once per process.
 *
 * A reader of the block mappings serverless.yml uses, not a YAML parser: keys are found by their path of
 * indentation (`functions.archive.environment.NODE_OPTIONS`), which is all these few settings need. (No YAML
 * package is a dependency, and the file's CloudFormation tags — !Ref, !GetAtt — need a custom schema anyway.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./services.js";

export interface ServerlessFunction {
  /** Its key under `functions:` (`archive`, `sendLink`). */
  name: string;
  /** `functions/x/handler.ts` */
  entry: string;
  /** The NODE_OPTIONS it is deployed with: its own environment's, else the provider's ("" when neither). */
  nodeOptions: string;
  /** Its memorySize in MB: its own, else the provider's (undefined when neither sets one). */
  memorySize: number | undefined;
  /** An httpApi event reaches it: its cold start is added to a caller's wait. */
  http: boolean;
}

export interface ServerlessConfig {
  provider: { nodeOptions: string; memorySize: number | undefined };
  /** The functions with a handler, in file order. */
  functions: ServerlessFunction[];
}

/** Each `key: value` line of the file with the path of keys above it; a `- key:` list item counts as a key. */
function* keyPaths(text: string): Generator<{ path: string[]; value: string }> {
  const stack: Array<{ indent: number; key: string }> = [];
  for (const line of text.split("\n")) {
    const m = /^( *)(- +)?([A-Za-z0-9_$.-]+):(?:\s+(.*?))?\s*$/.exec(line);
    if (!m) continue; // blank, comment, list scalar or block-scalar text
    // A list item's key sits where its text starts, like the keys of a mapping at that indentation.
    const indent = (m[1] as string).length + (m[2]?.length ?? 0);
    while (stack.length > 0 && (stack.at(-1) as { indent: number }).indent >= indent) stack.pop();
    stack.push({ indent, key: m[3] as string });
    yield { path: stack.map((s) => s.key), value: scalar(m[4] ?? "") };
  }
}

/** A plain or quoted scalar, without a trailing comment. */
function scalar(raw: string): string {
  const quoted = /^(["'])(.*)\1$/.exec(raw);
  if (quoted) return quoted[2] as string;
  return raw.replace(/\s+#.*$/, "");
}

function megabytes(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new Error(`serverless.yml: memorySize ${JSON.stringify(value)} is not in MB`);
  return Number(value);
}

export function parseServerlessYml(text: string): ServerlessConfig {
  let providerNodeOptions: string | undefined;
  let providerMemory: string | undefined;
  // What each function sets itself, as written.
  const own = new Map<
    string,
    { handler?: string; nodeOptions?: string; memorySize?: string; http: boolean }
  >();
  for (const { path, value } of keyPaths(text)) {
    const at = path.join(".");
    if (at === "provider.environment.NODE_OPTIONS") providerNodeOptions = value;
    else if (at === "provider.memorySize") providerMemory = value;
    else if (path[0] === "functions" && path.length >= 2) {
      const name = path[1] as string;
      const fn = own.get(name) ?? { http: false };
      own.set(name, fn);
      const rest = path.slice(2).join(".");
      if (rest === "handler") fn.handler = value;
      else if (rest === "memorySize") fn.memorySize = value;
      else if (rest === "environment.NODE_OPTIONS") fn.nodeOptions = value;
      else if (rest === "events.httpApi") fn.http = true;
    }
  }
  const provider = { nodeOptions: providerNodeOptions ?? "", memorySize: megabytes(providerMemory) };
  const functions: ServerlessFunction[] = [];
  for (const [name, fn] of own) {
    // `functions/x/handler.handler`: the module path, then the exported name.
    const module = fn.handler && /^(\S+)\.[A-Za-z_$][\w$]*$/.exec(fn.handler)?.[1];
    if (!module) continue;
    functions.push({
      name,
      entry: `${module}.ts`,
      nodeOptions: fn.nodeOptions ?? provider.nodeOptions,
      memorySize: megabytes(fn.memorySize) ?? provider.memorySize,
      http: fn.http,
    });
  }
  return { provider, functions };
}

let cached: ServerlessConfig | undefined;

/** The project's serverless.yml, read and parsed on first use. */
export function serverlessConfig(): ServerlessConfig {
  cached ??= parseServerlessYml(readFileSync(join(ROOT, "serverless.yml"), "utf8"));
  return cached;
}

/** A NODE_OPTIONS string as the flags it holds. */
export function nodeFlags(nodeOptions: string): string[] {
  return nodeOptions.split(/\s+/).filter(Boolean);
}
