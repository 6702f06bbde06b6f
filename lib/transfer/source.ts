/**
 * The download side's shared state: the current signed download info, its expiry, and which of its
 * resourceUrls is preferred. Refreshes are single-flight: when eight parts hit 403 at once, DingTalk is
 * asked once, and a part holding stale info gets the new one instead of asking again.
 */
import { describe, TransferError } from "./errors.js";
import { checkDownloadUrl, type HostPolicy } from "./hosts.js";

/** Signed URLs and headers for one file version: the fields of DingTalk's `headerSignatureInfo` the engine uses. */
export interface SignedDownload {
  resourceUrls: string[];
  headers: Record<string, string>;
  /** Seconds the URLs stay valid from now. 0 or missing = unknown (never refreshed early). */
  expirationSeconds: number;
}

export interface DownloadSource {
  /** Called at the start, and again on a 403 or when the info is about to expire. */
  getDownloadInfo(): Promise<SignedDownload>;
}

/** Download info checked against the host policy, stamped with when it expires and a generation number. */
export interface CurrentInfo {
  generation: number;
  urls: URL[];
  headers: Readonly<Record<string, string>>;
  /** Epoch ms; Infinity when unknown. */
  expiresAt: number;
  /** The validity DingTalk granted, ms (Infinity when unknown). */
  ttlMs: number;
}

/** After this many consecutive failures on the preferred URL, prefer the next one. */
const FAILURES_BEFORE_SWITCH = 2;

export class SourceState {
  private current: CurrentInfo | undefined;
  private inflight: Promise<CurrentInfo> | undefined;
  private generation = 0;
  private preferred = 0;
  private failuresOnPreferred = 0;
  /** URLs of the current generation that refused the file for good. */
  private refusing = new Set<number>();
  private refusingGeneration = 0;
  refreshes = 0;

  constructor(
    private readonly source: DownloadSource,
    private readonly policy: HostPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The current info, refreshed first if fewer than `marginMs` of validity remain. The margin is capped at half
   * the granted validity, so short-lived URLs (a test's 2 s) are not refreshed before every part.
   */
  async fresh(marginMs: number): Promise<CurrentInfo> {
    const cur = this.current;
    if (cur && cur.expiresAt - this.now() > Math.min(marginMs, cur.ttlMs / 2)) return cur;
    return this.refresh(cur?.generation ?? 0);
  }

  /** New info, unless someone already replaced the generation the caller saw fail (then that one). */
  refresh(staleGeneration: number): Promise<CurrentInfo> {
    if (this.current && this.current.generation > staleGeneration) return Promise.resolve(this.current);
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** The URL to use now: the preferred one, if it is still in the list. */
  urlIndex(info: CurrentInfo): number {
    return this.preferred < info.urls.length ? this.preferred : 0;
  }

  reportSuccess(index: number): void {
    if (index === this.preferred) this.failuresOnPreferred = 0;
  }

  /** A URL failed (network, 5xx, bad answer): after repeated failures, move on to the next resourceUrl. */
  reportFailure(info: CurrentInfo, index: number): void {
    if (index !== this.preferred || info.urls.length < 2) return;
    if (++this.failuresOnPreferred >= FAILURES_BEFORE_SWITCH) {
      this.preferred = (this.preferred + 1) % info.urls.length;
      this.failuresOnPreferred = 0;
    }
  }

  /**
   * A URL refused the file for good (404, 410, another 4xx than the expiry 403): prefer the next URL of the
   * same download info that has not refused it. False when every one has: then the part fails. A new
   * download info (another generation) starts with a clean slate.
   */
  switchAfterRefusal(info: CurrentInfo, index: number): boolean {
    if (info.generation !== this.refusingGeneration) {
      this.refusing = new Set();
      this.refusingGeneration = info.generation;
    }
    this.refusing.add(index);
    for (let step = 1; step < info.urls.length; step++) {
      const next = (index + step) % info.urls.length;
      if (this.refusing.has(next)) continue;
      this.preferred = next;
      this.failuresOnPreferred = 0;
      return true;
    }
    return false;
  }

  private async load(): Promise<CurrentInfo> {
    const requestedAt = this.now();
    let raw: SignedDownload;
    try {
      raw = await this.source.getDownloadInfo();
    } catch (err) {
      if (err instanceof TransferError) throw err;
      throw new TransferError("downloadInfo", `getting download info failed: ${describe(err)}`, {
        cause: err,
      });
    }
    const urls: URL[] = [];
    let refused: TransferError | undefined;
    for (const u of raw.resourceUrls ?? []) {
      try {
        urls.push(checkDownloadUrl(u, this.policy));
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        refused ??= err;
      }
    }
    if (urls.length === 0) {
      throw refused ?? new TransferError("downloadInfo", "download info has no resourceUrls");
    }
    const ttl = raw.expirationSeconds;
    this.refreshes += this.current ? 1 : 0;
    this.current = {
      generation: ++this.generation,
      urls,
      headers: { ...raw.headers },
      // Counted from the request, not the answer: the URL's clock started when DingTalk signed it.
      expiresAt: ttl > 0 ? requestedAt + ttl * 1000 : Number.POSITIVE_INFINITY,
      ttlMs: ttl > 0 ? ttl * 1000 : Number.POSITIVE_INFINITY,
    };
    return this.current;
  }
}
