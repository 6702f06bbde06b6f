/**
 * The access-token cache: one token per client, refreshed ahead of expiry, one refresh in flight at a
 * time. The token API is itself rate limited, so 50 concurrent calls on a cold Lambda must share one
 * refresh. A client created at module scope keeps its token across warm invocations.
 */
import type { Logger } from "../logging";

export interface IssuedToken {
  accessToken: string;
  /** Seconds. */
  expireIn: number;
}

export interface TokenCache {
  /** A token that is valid for a while yet; fetches one (single-flight) when needed. */
  get(): Promise<string>;
  /** DingTalk refused `token`: forget it, unless a newer one already replaced it. */
  invalidate(token: string): void;
  /** Every token this cache has held recently: strings to redact from anything we log or throw. */
  secrets(): string[];
}

export interface TokenCacheOptions {
  fetchToken: () => Promise<IssuedToken>;
  now: () => number;
  logger: Logger;
}

/** Refresh 5 minutes before expiry, or at 90% of the lifetime for short-lived tokens. */
export function refreshMarginMs(ttlMs: number): number {
  return Math.min(5 * 60_000, ttlMs * 0.1);
}

interface Cached {
  token: string;
  expiresAt: number;
  refreshAt: number;
}

const REMEMBERED_TOKENS = 4;
const RETRY_REFRESH_AFTER_MS = 30_000;

export function createTokenCache({ fetchToken, now, logger }: TokenCacheOptions): TokenCache {
  let cached: Cached | undefined;
  let inflight: Promise<string> | undefined;
  const recent: string[] = [];

  async function refresh(): Promise<string> {
    const previous = cached;
    try {
      const issued = await fetchToken();
      const obtainedAt = now();
      const ttlMs = issued.expireIn * 1000;
      cached = {
        token: issued.accessToken,
        expiresAt: obtainedAt + ttlMs,
        refreshAt: obtainedAt + ttlMs - refreshMarginMs(ttlMs),
      };
      if (!recent.includes(issued.accessToken)) {
        recent.push(issued.accessToken);
        if (recent.length > REMEMBERED_TOKENS) recent.shift();
      }
      logger.info("DingTalk access token refreshed", { expireInSeconds: issued.expireIn });
      return issued.accessToken;
    } catch (error) {
      // Refreshing early failed but the old token still works (and nobody invalidated it meanwhile): keep
      // using it rather than fail the call, and try again in a little while rather than on every call.
      if (previous && cached === previous && now() < previous.expiresAt) {
        logger.warn("DingTalk access token refresh failed; using the current token until it expires", {
          code: (error as { code?: unknown }).code,
        });
        cached = { ...previous, refreshAt: Math.min(previous.expiresAt, now() + RETRY_REFRESH_AFTER_MS) };
        return previous.token;
      }
      throw error;
    }
  }

  return {
    get() {
      if (cached && now() < cached.refreshAt) return Promise.resolve(cached.token);
      if (!inflight) {
        inflight = refresh().finally(() => {
          inflight = undefined;
        });
      }
      return inflight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
    secrets() {
      return [...recent];
    },
  };
}
