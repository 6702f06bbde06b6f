/**
 * The download side of one archive: DingTalk's signed download info for one file version, as the transfer
 * engine asks for it, plus a size probe for versions other than the current one (DingTalk's getDentry
 * describes only the current version, and the engine must know the size before the first byte).
 */
import { request } from "undici";
import type { DingTalkClient } from "../dingtalk";
import { checkDownloadUrl, type DownloadInfo, type DownloadSource, type HostPolicy } from "../transfer";

export interface FileVersionRef {
  unionId: string;
  spaceId: string;
  dentryId: string;
  version: number;
}

/**
 * A DownloadSource for one version. `first()` asks DingTalk once up front, so that a refusal (fileArchived,
 * permissionDenied...) surfaces before any S3 upload is created; the engine's first call then gets that
 * answer, and every later call (URL expiry, a 403) asks DingTalk again.
 */
export function dingTalkSource(
  dingtalk: Pick<DingTalkClient, "getFileDownloadInfo">,
  file: FileVersionRef,
): DownloadSource & { first(): Promise<DownloadInfo> } {
  let prefetched: DownloadInfo | undefined;
  const ask = async (): Promise<DownloadInfo> => {
    const answer = await dingtalk.getFileDownloadInfo(file);
    const info = answer.headerSignatureInfo;
    return {
      resourceUrls: info.resourceUrls,
      headers: info.headers,
      expirationSeconds: info.expirationSeconds ?? 0,
    };
  };
  return {
    async first() {
      prefetched = await ask();
      return prefetched;
    },
    async getDownloadInfo() {
      const info = prefetched;
      prefetched = undefined;
      return info ?? ask();
    },
  };
}

/**
 * The size of the file behind `info`, from a one-byte ranged GET (`Content-Range: bytes 0-0/<size>`), trying
 * each allowed URL in turn. GET, not HEAD: the URLs are signed for GET. Returns undefined when no URL told.
 */
export async function probeSize(info: DownloadInfo, policy: HostPolicy): Promise<number | undefined> {
  for (const raw of info.resourceUrls) {
    const url = checkDownloadUrl(raw, policy);
    try {
      const res = await request(url, {
        method: "GET",
        headers: { ...info.headers, range: "bytes=0-0", "accept-encoding": "identity" },
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const header = (name: string) => {
        const value = res.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      // Headers are all we need (a 200 may be the whole file); destroying the body emits an abort error.
      res.body.on("error", () => {});
      res.body.destroy();
      const total = /^bytes \d+-\d+\/(\d+)$/.exec(header("content-range") ?? "")?.[1];
      if (res.statusCode === 206 && total !== undefined) return Number(total);
      // OSS answers an unsatisfiable range (a 0-byte file) with 200 and the whole file.
      const length = header("content-length");
      if (res.statusCode === 200 && length !== undefined) return Number(length);
    } catch {
      // try the next URL
    }
  }
  return undefined;
}
