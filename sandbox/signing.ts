/**
 * Signed download URLs, OSS style: the URL carries `Expires`, and the headers carry
 * `Authorization: OSS sandbox:<hmac>` and `x-oss-date`. The HMAC covers the resource, the expiry and
 * the date, so a changed URL, header or expiry fails the check.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface SignedResource {
  spaceId: string;
  dentryId: string;
  version: number;
}

export class UrlSigner {
  /** A fresh secret per server: URLs from an earlier run are refused, as after a key rotation. */
  private readonly secret = randomBytes(32);

  /** The resource part of a file-host path: "/<spaceId>/<dentryId>/<version>". */
  static resourcePath(r: SignedResource): string {
    return `/${encodeURIComponent(r.spaceId)}/${encodeURIComponent(r.dentryId)}/${r.version}`;
  }

  private hmac(resource: string, expires: number, date: string): string {
    return createHmac("sha256", this.secret).update(`GET\n${resource}\n${expires}\n${date}`).digest("base64");
  }

  /** Headers for a resource valid until `expires` (epoch seconds). */
  sign(r: SignedResource, expires: number, now: Date): Record<string, string> {
    const date = now.toUTCString();
    return {
      Authorization: `OSS sandbox:${this.hmac(UrlSigner.resourcePath(r), expires, date)}`,
      "x-oss-date": date,
    };
  }

  verify(resource: string, expires: number, authorization: string | undefined, date: string | undefined) {
    if (!authorization || !date || !authorization.startsWith("OSS sandbox:")) return false;
    const given = Buffer.from(authorization.slice("OSS sandbox:".length));
    const want = Buffer.from(this.hmac(resource, expires, date));
    return given.length === want.length && timingSafeEqual(given, want);
  }
}
