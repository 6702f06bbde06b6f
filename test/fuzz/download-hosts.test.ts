/**
 * lib/transfer's host policy against URLs built to confuse it: allowed suffixes glued to other hosts,
 * userinfo, ports, IPv4 in every spelling, IPv6, percent-encoding, uppercase, trailing dots, backslashes,
 * whitespace and control characters, other schemes. (test/security/download-hosts.test.ts runs the
 * interesting ones through the archive worker; this checks thousands against the policy itself.)
 *
 * Property (default policy, *.dingtalk.com and *.aliyuncs.com, no http): whatever is accepted is https, on
 * port 443, without credentials, to a host that is a proper subdomain of one of the two (as the URL parser,
 * and so undici, will connect to it); everything else is refused with TransferError("hostNotAllowed")
 * whose message never holds the query.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_DOWNLOAD_ALLOWED_HOSTS } from "../../lib/config";
import { checkDownloadUrl, TransferError } from "../../lib/transfer";
import { hostileString, runs } from "./arbitraries";

const policy = { allowedHosts: DEFAULT_DOWNLOAD_ALLOWED_HOSTS, allowHttpHosts: [] };

const label = fc.oneof(
  fc.constantFrom(
    "a",
    "zjk",
    "trans",
    "oss-cn-hangzhou",
    "evil",
    "dingtalk",
    "aliyuncs",
    "com",
    "xn--fsq",
    "169",
  ),
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
);
const hostPart = fc.oneof(
  { weight: 4, arbitrary: fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join(".")) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "dingtalk.com",
      ".dingtalk.com",
      "dingtalk.com.",
      "DINGTALK.COM",
      "dingtalk.com.evil.net",
      "dingtalk.com%2eevil.net",
      "aliyuncs.com",
      "aliyuncs.com:443",
      "aliyuncs.com:8443",
      "169.254.169.254",
      "2852039166",
      "0xa9fea9fe",
      "0251.0376.0251.0376",
      "[::ffff:169.254.169.254]",
      "[fd00:ec2::254]",
      "[::1]",
      "localhost",
      "%61.dingtalk.com",
      "a.dingtalk.com\\@evil.net",
      "a.dingtalk.com#@evil.net",
      "a.dingtalk.com?@evil.net",
      "a.dingtalk.com\t",
      " a.dingtalk.com",
      "a.dingtalk.com\u3002evil.net", // ideographic full stop, a dot to IDNA
      "a.dingtalk\u2024com",
      "ａ.dingtalk.com", // fullwidth a
    ),
  },
  { weight: 1, arbitrary: hostileString(12) },
);
const userinfo = fc.constantFrom("", "", "", "user@", "user:pw@", "a.dingtalk.com@", ":@", "@");
const scheme = fc.constantFrom(
  "https://",
  "https://",
  "https://",
  "HTTPS://",
  "http://",
  "https:/",
  "https:",
  "ftp://",
  "//",
  "",
);
const port = fc.constantFrom("", "", "", ":443", ":0443", ":8443", ":80", ":", ":65536");
const rest = fc.constantFrom("/f?Expires=1&Signature=s3cr3t", "/", "", "#x", "?x=@evil.net", "/..%2f..%2f");

const url = fc
  .tuple(scheme, userinfo, fc.array(hostPart, { minLength: 1, maxLength: 3 }), port, rest)
  .map(([s, u, hosts, p, r]) => `${s}${u}${hosts.join(".")}${p}${r}`);

function properSubdomain(hostname: string): boolean {
  return [".dingtalk.com", ".aliyuncs.com"].some(
    (suffix) => hostname.endsWith(suffix) && hostname.length > suffix.length,
  );
}

describe("checkDownloadUrl against confusing URLs", () => {
  it("accepts only https:443 without credentials to a proper subdomain of an allowed suffix", () => {
    fc.assert(
      fc.property(url, (raw) => {
        let accepted: URL;
        try {
          accepted = checkDownloadUrl(raw, policy);
        } catch (error) {
          expect(error).toBeInstanceOf(TransferError);
          expect((error as TransferError).reason).toBe("hostNotAllowed");
          expect((error as Error).message).not.toContain("s3cr3t");
          return;
        }
        // What undici will connect to is what the WHATWG parser says (checkDownloadUrl returns that URL).
        const again = new URL(raw);
        expect(again.href).toBe(accepted.href);
        expect(accepted.protocol).toBe("https:");
        expect(accepted.port).toBe("");
        expect(accepted.username + accepted.password).toBe("");
        const hostname = accepted.hostname.replace(/\.$/, "");
        expect(properSubdomain(hostname), hostname).toBe(true);
      }),
      runs(4000),
    );
  });
});
