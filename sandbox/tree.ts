/**
 * The space's dentries: a folder tree whose files have versions, each backed by generated content,
 * inline bytes or a file on disk. Ids are derived from the path, so they are stable across restarts.
 */
import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export type ContentSource =
  | { kind: "generated"; seed: string; size: number }
  | { kind: "bytes"; data: Buffer }
  | { kind: "disk"; file: string; size: number };

export interface FileVersion {
  version: number;
  source: ContentSource;
  size: number;
  modifiedTime: Date;
  /** Disk-backed only: what the version was derived from, to notice changes on rescan. */
  diskStamp?: string;
}

export interface Dentry {
  id: string;
  /** "0" for entries at the root. */
  parentId: string;
  type: "FILE" | "FOLDER";
  name: string;
  /** Relative to the space root, without a leading slash: "docs/report.pdf". */
  path: string;
  createTime: Date;
  modifiedTime: Date;
  /** Files only, oldest first; the last is the current version. */
  versions: FileVersion[];
}

export const ROOT_ID = "0";

/** A numeric-looking id (DingTalk ids are digits) from a stable hash of the path. */
export function dentryIdFor(path: string): string {
  const hex = createHash("sha256").update(`dentry:${path}`).digest("hex").slice(0, 13);
  return BigInt(`0x${hex}`).toString(10);
}

function uuidFor(id: string): string {
  const h = createHash("sha256").update(`uuid:${id}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** DingTalk's time format: ISO 8601 at minute precision, "2022-07-29T14:55Z". */
export function minuteIso(d: Date): string {
  return `${d.toISOString().slice(0, 16)}Z`;
}

export function sizeOf(source: ContentSource): number {
  return source.kind === "bytes" ? source.data.length : source.size;
}

function normalisePath(path: string): string {
  return path
    .split("/")
    .filter((p) => p !== "" && p !== ".")
    .join("/");
}

export class Tree {
  private readonly byId = new Map<string, Dentry>();
  private readonly idByPath = new Map<string, string>();
  /** Paths that came from disk: only these vanish when the disk copy does (generated files stay). */
  private readonly diskPaths = new Set<string>();

  constructor(
    readonly spaceId: string,
    readonly unionId: string,
    private readonly now: () => number,
  ) {}

  get(id: string): Dentry | undefined {
    return this.byId.get(id);
  }

  idOf(path: string): string | undefined {
    const p = normalisePath(path);
    return p === "" ? ROOT_ID : this.idByPath.get(p);
  }

  children(parentId: string): Dentry[] {
    return [...this.byId.values()].filter((d) => d.parentId === parentId);
  }

  all(): Dentry[] {
    return [...this.byId.values()];
  }

  /** Bytes used by current versions (the space's usedQuota). */
  usedBytes(): number {
    let used = 0;
    for (const d of this.byId.values()) used += d.versions.at(-1)?.size ?? 0;
    return used;
  }

  /** Create the folder and its missing ancestors; return its id ("0" for the root). */
  ensureFolder(path: string, at?: Date): string {
    const p = normalisePath(path);
    if (p === "") return ROOT_ID;
    const existing = this.idByPath.get(p);
    if (existing !== undefined) {
      if (this.byId.get(existing)?.type !== "FOLDER") throw new Error(`${p} is a file, not a folder`);
      return existing;
    }
    return this.insertAt(p, "FOLDER", [], at);
  }

  /** Add a file, or give an existing one a new version. Returns its id. */
  putFile(path: string, source: ContentSource, at?: Date, diskStamp?: string): string {
    const p = normalisePath(path);
    const time = at ?? new Date(this.now());
    const version = (n: number): FileVersion => ({
      version: n,
      source,
      size: sizeOf(source),
      modifiedTime: time,
      ...(diskStamp === undefined ? {} : { diskStamp }),
    });
    const existingId = this.idByPath.get(p);
    const existing = existingId === undefined ? undefined : this.byId.get(existingId);
    if (existing) {
      if (existing.type !== "FILE") throw new Error(`${p} is a folder, not a file`);
      existing.versions.push(version((existing.versions.at(-1)?.version ?? 0) + 1));
      existing.modifiedTime = time;
      return existing.id;
    }
    return this.insertAt(p, "FILE", [version(1)], time);
  }

  /**
   * Rename and/or move a dentry, as DingTalk's move/rename does: the id and the version stay, the modified
   * time becomes now (so a newest-first listing shows it again). A folder's descendants follow.
   */
  move(id: string, toPath: string): void {
    const d = this.byId.get(id);
    if (!d) throw new Error(`no dentry ${id}`);
    const to = normalisePath(toPath);
    if (to === "") throw new Error("cannot move onto the space root");
    if (this.idByPath.has(to)) throw new Error(`${to} already exists`);
    if (d.type === "FOLDER" && to.startsWith(`${d.path}/`))
      throw new Error(`cannot move ${d.path} into itself`);
    const slash = to.lastIndexOf("/");
    const parentId = this.ensureFolder(slash < 0 ? "" : to.slice(0, slash));
    const time = new Date(this.now());
    const from = d.path;
    for (const entry of [...this.byId.values()]) {
      if (entry.id !== id && !entry.path.startsWith(`${from}/`)) continue;
      this.idByPath.delete(entry.path);
      entry.path = to + entry.path.slice(from.length);
      this.idByPath.set(entry.path, entry.id);
    }
    d.parentId = parentId;
    d.name = to.slice(slash + 1);
    d.modifiedTime = time;
    const current = d.versions.at(-1);
    if (current) current.modifiedTime = time;
  }

  remove(id: string): void {
    const d = this.byId.get(id);
    if (!d) return;
    for (const child of this.children(id)) this.remove(child.id);
    this.byId.delete(id);
    this.idByPath.delete(d.path);
  }

  /** A new dentry at normalised path `p`, its missing parent folders created (at `at`, or now). */
  private insertAt(p: string, type: Dentry["type"], versions: FileVersion[], at?: Date): string {
    const slash = p.lastIndexOf("/");
    const parentId = this.ensureFolder(slash < 0 ? "" : p.slice(0, slash), at);
    const time = at ?? new Date(this.now());
    return this.insert({
      id: dentryIdFor(p),
      parentId,
      type,
      name: p.slice(slash + 1),
      path: p,
      createTime: time,
      modifiedTime: time,
      versions,
    });
  }

  private insert(d: Dentry): string {
    // A moved dentry keeps the id of its old path: a new entry there gets another (still stable) id.
    for (let n = 1; this.byId.has(d.id); n++) {
      if (n > 100) throw new Error(`dentry id collision for ${d.path}`);
      d.id = dentryIdFor(`${d.path}#${n}`);
    }
    this.byId.set(d.id, d);
    this.idByPath.set(d.path, d.id);
    return d.id;
  }

  /**
   * Mirror a folder on disk: new entries are added, changed files (size or mtime) get a new version,
   * vanished entries are removed. Only the current version of a disk file can be downloaded.
   */
  syncFromDisk(root: string): void {
    const seen = new Set<string>();
    const walk = (rel: string) => {
      for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
        const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
        const abs = join(root, childRel);
        let st: ReturnType<typeof statSync>;
        try {
          st = statSync(abs); // follows symlinks
        } catch {
          continue; // dangling symlink or vanished meanwhile
        }
        if (st.isDirectory()) {
          seen.add(childRel);
          this.diskPaths.add(childRel);
          // Some file systems report no birth time (epoch 0).
          this.ensureFolder(childRel, st.birthtimeMs > 0 ? st.birthtime : st.mtime);
          walk(childRel);
        } else if (st.isFile()) {
          seen.add(childRel);
          this.diskPaths.add(childRel);
          const stamp = `${st.size}:${st.mtimeMs}`;
          const id = this.idByPath.get(childRel);
          const current = id === undefined ? undefined : this.byId.get(id)?.versions.at(-1);
          if (current?.diskStamp !== stamp) {
            this.putFile(childRel, { kind: "disk", file: abs, size: st.size }, st.mtime, stamp);
          }
        }
      }
    };
    walk("");
    for (const path of [...this.diskPaths]) {
      if (seen.has(path)) continue;
      this.diskPaths.delete(path);
      const id = this.idByPath.get(path);
      if (id !== undefined) this.remove(id);
    }
  }

  /** The wire form of a dentry (storage API), optionally at an older version. */
  toJson(d: Dentry, version?: FileVersion) {
    const v = version ?? d.versions.at(-1);
    const dot = d.name.lastIndexOf(".");
    return {
      id: d.id,
      spaceId: this.spaceId,
      parentId: d.parentId,
      type: d.type,
      name: d.name,
      ...(d.type === "FILE" ? { size: v?.size ?? 0 } : {}),
      path: `/${d.path}`,
      version: v?.version ?? 1,
      status: "NORMAL",
      ...(d.type === "FILE" && dot > 0 ? { extension: d.name.slice(dot + 1).toLowerCase() } : {}),
      creatorId: this.unionId,
      modifierId: this.unionId,
      createTime: minuteIso(d.createTime),
      modifiedTime: minuteIso(v?.modifiedTime ?? d.modifiedTime),
      properties: { readOnly: false },
      appProperties: {},
      uuid: uuidFor(d.id),
      partitionType: "PUBLIC_OSS_PARTITION",
      storageDriver: "DINGTALK",
    };
  }
}

export const SAMPLE_BIG_FILE_SIZE = 64 * 1024 * 1024;

/**
 * The generated sample tree: small files, a 64 MiB file, nested folders, non-ASCII names, and a
 * folder with 120 entries so that listing needs several pages.
 */
export function addSampleTree(tree: Tree): void {
  const base = Date.UTC(2026, 0, 5, 9, 0);
  let minute = 0;
  // Distinct modified times (a minute apart) so the default order (modified time) is well defined.
  const at = () => new Date(base + 60_000 * minute++);
  const text = (s: string): ContentSource => ({ kind: "bytes", data: Buffer.from(s, "utf8") });
  const gen = (path: string, size: number): ContentSource => ({ kind: "generated", seed: path, size });

  tree.putFile("README.txt", text("This space is served by the local DingTalk sandbox.\n"), at());
  tree.putFile("données.csv", text("nom,quantité\nçà,1\nœuf,2\n"), at());
  tree.putFile("报告 2026.pdf", gen("报告 2026.pdf", 300_001), at());
  tree.putFile("empty.txt", text(""), at());
  tree.putFile("media/big-64MiB.bin", gen("media/big-64MiB.bin", SAMPLE_BIG_FILE_SIZE), at());
  tree.putFile("docs/guide.md", text("# Guide\n\nNested folders below.\n"), at());
  tree.putFile("docs/2026/plan.xlsx", gen("docs/2026/plan.xlsx", 48_000), at());
  tree.putFile("docs/2026/q1/notes.md", text("Q1 notes\n"), at());
  tree.putFile("docs/2026/q1/summary.docx", gen("docs/2026/q1/summary.docx", 1_048_577), at());
  tree.ensureFolder("docs/archive", at());
  tree.ensureFolder("empty-folder", at());
  // A second version of one file, so old versions can be fetched.
  tree.putFile("docs/guide.md", text("# Guide\n\nNested folders below. (v2)\n"), at());
  for (let i = 1; i <= 120; i++) {
    const n = String(i).padStart(3, "0");
    tree.putFile(`many/item-${n}.txt`, text(`item ${n}\n`), at());
  }
}
