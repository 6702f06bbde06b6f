import { describe, expect, it } from "vitest";
import { checkDownloadUrl, hostMatches, redactUrl, TransferError } from "../../lib/transfer/index.js";

const policy = {
  allowedHosts: ["*.dingtalk.com", "*.aliyuncs.com", "127.0.0.1:4010", "files.example.org"],
  allowHttpHosts: ["127.0.0.1:4010"],
};

function refusal(url: string, p = policy): TransferError {
  try {
    checkDownloadUrl(url, p);
  } catch (err) {
    expect(err).toBeInstanceOf(TransferError);
    return err as TransferError;
  }
  throw new Error(`${url} was allowed`);
}

describe("hostMatches", () => {
  it.each([
    ["*.dingtalk.com", "https://a.dingtalk.com/x", true],
    ["*.dingtalk.com", "https://a.b.trans.dingtalk.com/x", true],
    ["*.dingtalk.com", "https://dingtalk.com/x", false], // the apex is not a subdomain
    ["*.dingtalk.com", "https://evildingtalk.com/x", false],
    ["*.dingtalk.com", "https://a.dingtalk.com.evil.io/x", false],
    ["*.dingtalk.com", "https://a.dingtalk.com:8443/x", false], // no port in the pattern = default port only
    ["*.dingtalk.com:8443", "https://a.dingtalk.com:8443/x", true],
    ["*.DingTalk.COM", "https://A.dingtalk.com./x", true], // case and a trailing dot do not matter
    ["files.example.org", "https://files.example.org/x", true],
    ["files.example.org", "https://files.example.org:443/x", true],
    ["files.example.org", "https://x.files.example.org/x", false],
    ["127.0.0.1:4010", "http://127.0.0.1:4010/files/0", true],
    ["127.0.0.1:4010", "http://127.0.0.1:4011/files/0", false],
    ["127.0.0.1", "http://127.0.0.1:4010/files/0", false],
    ["[::1]:4010", "http://[::1]:4010/f", true],
    ["", "https://a.dingtalk.com/x", false],
  ])("%s vs %s → %s", (pattern, url, expected) => {
    expect(hostMatches(pattern, new URL(url))).toBe(expected);
  });
});

describe("checkDownloadUrl", () => {
  it("allows https to an allowed host, and http only to a host allowed for http", () => {
    expect(checkDownloadUrl("https://zjk.trans.dingtalk.com/f?Expires=1&Signature=x", policy).host).toBe(
      "zjk.trans.dingtalk.com",
    );
    expect(checkDownloadUrl("http://127.0.0.1:4010/files/0/s/d/1?Expires=1", policy).port).toBe("4010");
  });

  it("refuses the instance metadata service and other hosts, naming the host but not the query", () => {
    const err = refusal("http://169.254.169.254/latest/meta-data/iam/security-credentials/?token=secret");
    expect(err.reason).toBe("hostNotAllowed");
    expect(err.message).toContain("169.254.169.254");
    expect(err.message).not.toContain("secret");
    expect(err.url).toBe("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
    expect(refusal("https://internal.corp/file").reason).toBe("hostNotAllowed");
  });

  it("refuses plain http to an allowed host not allowed for http", () => {
    const err = refusal("http://a.dingtalk.com/f?Signature=abc");
    expect(err.message).toMatch(/plain http/);
    expect(err.message).not.toContain("abc");
  });

  it("refuses other schemes, credentials in the URL, and garbage", () => {
    expect(refusal("ftp://a.dingtalk.com/f").message).toMatch(/scheme ftp:/);
    expect(refusal("file:///etc/passwd").reason).toBe("hostNotAllowed");
    expect(refusal("https://user:pw@a.dingtalk.com/f").message).toMatch(/credentials/);
    expect(refusal("not a url").message).toMatch(/not a valid URL/);
  });

  it("refuses everything with an empty allowlist", () => {
    expect(refusal("https://a.dingtalk.com/f", { allowedHosts: [], allowHttpHosts: [] }).message).toMatch(
      /none/,
    );
  });
});

describe("redactUrl", () => {
  it("keeps scheme, host and path, drops query and fragment", () => {
    expect(redactUrl("https://a.dingtalk.com:8443/p/q.bin?OSSAccessKeyId=k&Signature=s#frag")).toBe(
      "https://a.dingtalk.com:8443/p/q.bin",
    );
    expect(redactUrl("::")).toBe("(invalid URL)");
  });
});
