/**
 * A dentry's signed download info, asked of a running sandbox as a DingTalk client asks it (an access token,
 * then downloadInfos/query) — for the transfer tests and the bench, which do not go through lib/dingtalk.
 * Uses the sandbox's default app, space and user.
 */
export interface SandboxDownloadInfo {
  resourceUrls: string[];
  headers: Record<string, string>;
  expirationSeconds: number;
}

export async function fetchDownloadInfo(baseUrl: string, dentryId: string): Promise<SandboxDownloadInfo> {
  const tokenRes = await fetch(`${baseUrl}/v1.0/oauth2/accessToken`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ appKey: "sandbox", appSecret: "sandbox-secret" }),
  });
  const { accessToken } = (await tokenRes.json()) as { accessToken: string };
  const res = await fetch(
    `${baseUrl}/v1.0/storage/spaces/sandbox-space/dentries/${dentryId}/downloadInfos/query?unionId=sandbox-union`,
    {
      method: "POST",
      headers: { "content-type": "application/json", "x-acs-dingtalk-access-token": accessToken },
      body: JSON.stringify({ option: { preferIntranet: false } }),
    },
  );
  if (res.status !== 200) throw new Error(`downloadInfos/query answered ${res.status}`);
  const { resourceUrls, headers, expirationSeconds } = (
    (await res.json()) as { headerSignatureInfo: SandboxDownloadInfo }
  ).headerSignatureInfo;
  return { resourceUrls, headers, expirationSeconds };
}
