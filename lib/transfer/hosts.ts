/**
 * Where download URLs may point. DingTalk hands us URLs to fetch; a compromised or spoofed answer must not
 * make a Lambda fetch from the instance metadata service (169.254.169.254), an internal host, or over
 * plain http. So: https only, to an allowed host; http only for hosts allowed for http explicitly (the
 * local sandbox). Redirects are never followed (undici.request does not), so the check cannot be bypassed.
 */
import { TransferError } from "./errors.js";

export interface HostPolicy {
  /** `host`, `host:port`, or `*.suffix` (any subdomain of suffix, not suffix itself). Case-insensitive. */
  allowedHosts: readonly string[];
  /** Hosts (same patterns) that may also be fetched over plain http, e.g. ["127.0.0.1:4010"]. */
  allowHttpHosts?: readonly string[];
}

const DEFAULT_PORT: Record<string, string> = { "https:": "443", "http:": "80" };

/**
 * Whether `url`'s host matches `pattern`. A pattern without a port matches only the scheme's default port,
 * so allowing "example.com" does not allow "example.com:6379".
 */
export function hostMatches(pattern: string, url: URL): boolean {
  const p = pattern.trim().toLowerCase().replace(/\.$/, "");
  if (p === "") return false;
  const hostname = url.hostname.toLowerCase().replace(/\.$/, "");
  const port = url.port || DEFAULT_PORT[url.protocol] || "";
  // Split an optional ":port" off the pattern (IPv6 patterns are written in brackets, like URL.hostname).
  const m = /^(.*?)(?::(\d+))?$/.exec(p);
  const patHost = m?.[1] ?? p;
  const patPort = m?.[2] ?? DEFAULT_PORT[url.protocol];
  if (patPort !== port) return false;
  if (patHost.startsWith("*.")) {
    const suffix = patHost.slice(1); // ".example.com"
    return hostname.endsWith(suffix) && hostname.length > suffix.length;
  }
  return hostname === patHost;
}

/** Throws TransferError("hostNotAllowed") unless `rawUrl` may be fetched under `policy`. Returns the parsed URL. */
export function checkDownloadUrl(rawUrl: string, policy: HostPolicy): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new TransferError("hostNotAllowed", "download URL is not a valid URL");
  }
  const where = redactUrl(url);
  if (url.username || url.password) {
    throw new TransferError("hostNotAllowed", `download URL ${where} carries credentials; refused`, {
      url: where,
    });
  }
  const allowed = policy.allowedHosts.some((p) => hostMatches(p, url));
  if (url.protocol === "https:") {
    if (allowed) return url;
  } else if (url.protocol === "http:") {
    const httpAllowed = (policy.allowHttpHosts ?? []).some((p) => hostMatches(p, url));
    if (allowed && httpAllowed) return url;
    if (allowed) {
      throw new TransferError(
        "hostNotAllowed",
        `download URL ${where} is plain http and its host is not allowed for http`,
        {
          url: where,
        },
      );
    }
  } else {
    throw new TransferError(
      "hostNotAllowed",
      `download URL scheme ${url.protocol} is not allowed (${where})`,
      {
        url: where,
      },
    );
  }
  throw new TransferError(
    "hostNotAllowed",
    `download URL host ${url.host} is not in the allowed hosts (${policy.allowedHosts.join(", ") || "none"})`,
    { url: where },
  );
}

/** Scheme, host and path only: signed URLs carry their signature in the query. */
export function redactUrl(url: URL | string): string {
  try {
    const u = typeof url === "string" ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
