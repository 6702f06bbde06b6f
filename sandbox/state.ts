/** Everything a running sandbox knows, shared by the API handlers, the file host and the admin API. */
import { randomBytes } from "node:crypto";
import { API_NAMES, FaultEngine } from "./faults";
import { UrlSigner } from "./signing";
import { addSampleTree, Tree } from "./tree";
import type { SandboxApi, SandboxOptions, SentLink } from "./types";

export const DEFAULTS = {
  host: "127.0.0.1",
  appKey: "sandbox",
  appSecret: "sandbox-secret",
  unionId: "sandbox-union",
  spaceId: "sandbox-space",
  conversationId: "cid-sandbox",
  tokenTtlSeconds: 7200,
  urlTtlSeconds: 900,
} as const;

export type ResolvedOptions = Omit<SandboxOptions, "now"> &
  Required<Pick<SandboxOptions, keyof typeof DEFAULTS>>;

export function zeroCalls(): Record<SandboxApi, number> {
  return Object.fromEntries(API_NAMES.map((api) => [api, 0])) as Record<SandboxApi, number>;
}

/** Access tokens: one per app, reissued only when the previous one expired or was revoked. */
export class TokenStore {
  private current: { token: string; expiresAt: number } | undefined;

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => number,
  ) {}

  issue(): { accessToken: string; expireIn: number } {
    const now = this.now();
    if (!this.current || this.current.expiresAt <= now) {
      this.current = { token: randomBytes(16).toString("hex"), expiresAt: now + this.ttlSeconds * 1000 };
    }
    return {
      accessToken: this.current.token,
      expireIn: Math.max(1, Math.floor((this.current.expiresAt - now) / 1000)),
    };
  }

  isValid(token: string | undefined): boolean {
    return token !== undefined && token === this.current?.token && this.current.expiresAt > this.now();
  }

  expireAll(): void {
    this.current = undefined;
  }
}

export class SandboxState {
  readonly options: ResolvedOptions;
  readonly now: () => number;
  readonly tree: Tree;
  readonly faults = new FaultEngine();
  readonly signer = new UrlSigner();
  readonly tokens: TokenStore;
  calls = zeroCalls();
  readonly links: SentLink[] = [];
  /** Base URL of this server, known once it listens. */
  baseUrl = "";

  constructor(opts: SandboxOptions) {
    const { now, ...rest } = opts;
    this.options = { ...DEFAULTS, ...stripUndefined(rest) };
    this.now = now ?? Date.now;
    this.tokens = new TokenStore(this.options.tokenTtlSeconds, this.now);
    this.tree = new Tree(this.options.spaceId, this.options.unionId, this.now);
    if (this.options.dir) this.tree.syncFromDisk(this.options.dir);
    else addSampleTree(this.tree);
    for (const file of this.options.generatedFiles ?? []) this.putGeneratedFile(file);
    if (this.options.faults) this.faults.add(...this.options.faults);
  }

  /** See a folder on disk as it is now (called before API calls, so edits show up). */
  refresh(): void {
    if (this.options.dir) this.tree.syncFromDisk(this.options.dir);
  }

  /** Rename and/or move the dentry at `from` to the path `to` (same id and version); returns its id. */
  moveDentry(from: string, to: string): string {
    this.refresh();
    const id = this.tree.idOf(from);
    if (id === undefined || id === "0") throw new Error(`no dentry at ${JSON.stringify(from)}`);
    this.tree.move(id, to);
    return id;
  }

  putGeneratedFile(file: { name: string; size: number; parentPath?: string; seed?: string }): string {
    if (!Number.isSafeInteger(file.size) || file.size < 0) throw new Error(`bad size ${file.size}`);
    if (!file.name || file.name.includes("/")) throw new Error(`bad file name ${JSON.stringify(file.name)}`);
    const path = file.parentPath ? `${file.parentPath.replace(/\/+$/, "")}/${file.name}` : file.name;
    const existing = this.tree.get(this.tree.idOf(path) ?? "");
    const nextVersion = (existing?.versions.at(-1)?.version ?? 0) + 1;
    // The default seed differs per version, so a new version has new content.
    const seed = file.seed ?? `${this.options.spaceId}/${path}#${nextVersion}`;
    return this.tree.putFile(path, { kind: "generated", seed, size: file.size });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
