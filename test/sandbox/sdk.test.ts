/**
 * Wire check with DingTalk's official Node SDK: if the SDK's typed models fill from the sandbox's
 * answers, and its errors carry the sandbox's codes, the sandbox speaks DingTalk's format.
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox/server";
import type { Sandbox } from "../../sandbox/types";
import { drain, idOf } from "./helpers";

// The SDK is CommonJS with `exports.default = Client`; require() gives the same shape under every loader.
const require = createRequire(import.meta.url);
type Storage = typeof import("@alicloud/dingtalk/dist/storage_1_0/client");
type ConvFile = typeof import("@alicloud/dingtalk/dist/conv_file_1_0/client");
type OAuth2 = typeof import("@alicloud/dingtalk/dist/oauth2_1_0/client");
const storage = require("@alicloud/dingtalk/dist/storage_1_0/client") as Storage;
const convFile = require("@alicloud/dingtalk/dist/conv_file_1_0/client") as ConvFile;
const oauth2 = require("@alicloud/dingtalk/dist/oauth2_1_0/client") as OAuth2;
const OpenApi = require("@alicloud/openapi-client") as typeof import("@alicloud/openapi-client");
const Util = require("@alicloud/tea-util") as typeof import("@alicloud/tea-util");

let sb: Sandbox;
let accessToken: string;
// The SDK wants a bare host:port as endpoint, and http for a local server.
const config = () => new OpenApi.Config({ protocol: "http", endpoint: sb.fileHost });
const runtime = () => new Util.RuntimeOptions({});

beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());

/** The SDK's error: a Tea error with DingTalk's code, HTTP status and parsed body. */
interface SdkError {
  code: string;
  statusCode: number;
  message: string;
  data: Record<string, unknown>;
}

async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error("expected the SDK call to fail");
}

describe("DingTalk SDK against the sandbox", () => {
  it("oauth2: getAccessToken", async () => {
    const client = new oauth2.default(config());
    const res = await client.getAccessToken(
      new oauth2.GetAccessTokenRequest({ appKey: sb.options.appKey, appSecret: sb.options.appSecret }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toBeInstanceOf(oauth2.GetAccessTokenResponseBody);
    expect(res.body?.expireIn).toBe(7200);
    accessToken = res.body?.accessToken ?? "";
    expect(accessToken).not.toBe("");

    const bad = await sdkError(
      client.getAccessToken(new oauth2.GetAccessTokenRequest({ appKey: "sandbox", appSecret: "nope" })),
    );
    expect([bad.statusCode, bad.code]).toEqual([400, "invalidClientIdOrSecret"]);
  });

  it("storage: getFileDownloadInfo, and the URLs it gives download the file", async () => {
    const client = new storage.default(config());
    const res = await client.getFileDownloadInfoWithOptions(
      sb.options.spaceId,
      idOf(sb, "报告 2026.pdf"),
      new storage.GetFileDownloadInfoRequest({
        unionId: sb.options.unionId,
        option: new storage.GetFileDownloadInfoRequestOption({ preferIntranet: false }),
      }),
      new storage.GetFileDownloadInfoHeaders({ xAcsDingtalkAccessToken: accessToken }),
      runtime(),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers?.["x-acs-request-id"]).toBeTruthy();
    const info = res.body?.headerSignatureInfo;
    expect(res.body?.protocol).toBe("HEADER_SIGNATURE");
    expect(info).toBeInstanceOf(storage.GetFileDownloadInfoResponseBodyHeaderSignatureInfo);
    expect(info?.resourceUrls?.length).toBeGreaterThanOrEqual(2);
    expect(info?.expirationSeconds).toBe(900);
    expect(info?.region).toBe("ZHANGJIAKOU");
    expect(Object.keys(info?.headers ?? {})).toEqual(["Authorization", "x-oss-date"]);

    const file = await fetch(info?.resourceUrls?.[0] ?? "", {
      headers: { ...info?.headers, range: "bytes=0-99" },
    });
    expect([file.status, file.headers.get("content-range")]).toEqual([206, "bytes 0-99/300001"]);
    expect((await drain(file)).bytes).toBe(100);
  });

  it("storage: getDentry, listDentries and getSpace fill the typed models", async () => {
    const client = new storage.default(config());
    const auth = { xAcsDingtalkAccessToken: accessToken };
    const id = idOf(sb, "docs/2026/q1/summary.docx");
    const one = await client.getDentryWithOptions(
      sb.options.spaceId,
      id,
      new storage.GetDentryRequest({
        unionId: sb.options.unionId,
        option: new storage.GetDentryRequestOption({}),
      }),
      new storage.GetDentryHeaders(auth),
      runtime(),
    );
    expect(one.body?.dentry).toMatchObject({
      id,
      name: "summary.docx",
      size: 1_048_577,
      type: "FILE",
      version: 1,
    });
    expect(one.body?.dentry?.properties?.readOnly).toBe(false);

    const list = await client.listDentriesWithOptions(
      sb.options.spaceId,
      new storage.ListDentriesRequest({
        unionId: sb.options.unionId,
        parentId: idOf(sb, "many"),
        maxResults: 50,
      }),
      new storage.ListDentriesHeaders(auth),
      runtime(),
    );
    expect(list.body?.dentries).toHaveLength(50);
    expect(list.body?.nextToken).toBeTruthy();

    const space = await client.getSpaceWithOptions(
      sb.options.spaceId,
      new storage.GetSpaceRequest({ unionId: sb.options.unionId }),
      new storage.GetSpaceHeaders(auth),
      runtime(),
    );
    expect(space.body?.space?.id).toBe(sb.options.spaceId);
  });

  it("storage: errors surface with DingTalk's code and request id", async () => {
    const client = new storage.default(config());
    const err = await sdkError(
      client.getFileDownloadInfoWithOptions(
        sb.options.spaceId,
        "424242",
        new storage.GetFileDownloadInfoRequest({ unionId: sb.options.unionId }),
        new storage.GetFileDownloadInfoHeaders({ xAcsDingtalkAccessToken: accessToken }),
        runtime(),
      ),
    );
    expect([err.statusCode, err.code]).toEqual([404, "dentryNotExist"]);
    expect(err.message).toContain(`request id: ${err.data.requestid as string}`);
  });

  it("convFile: sendLink, and conversationNotExist as an SDK error", async () => {
    const client = new convFile.default(config());
    const headers = new convFile.SendLinkHeaders({ xAcsDingtalkAccessToken: accessToken });
    const request = (openConversationId: string) =>
      new convFile.SendLinkRequest({
        unionId: sb.options.unionId,
        spaceId: sb.options.spaceId,
        dentryId: idOf(sb, "données.csv"),
        openConversationId,
      });
    const res = await client.sendLinkWithOptions(request(sb.options.conversationId), headers, runtime());
    expect(res.statusCode).toBe(200);
    expect(res.body?.file).toBeInstanceOf(convFile.SendLinkResponseBodyFile);
    expect(res.body?.file).toMatchObject({
      id: idOf(sb, "données.csv"),
      conversationId: sb.options.conversationId,
      name: "données.csv",
      extension: "csv",
      status: "NORMAL",
    });
    expect(sb.sentLinks()).toHaveLength(1);

    const err = await sdkError(client.sendLinkWithOptions(request("cid-elsewhere"), headers, runtime()));
    expect([err.statusCode, err.code]).toEqual([404, "conversationNotExist"]);
  });

  it("an invalid token is InvalidAuthentication through the SDK", async () => {
    const client = new storage.default(config());
    const err = await sdkError(
      client.getSpaceWithOptions(
        sb.options.spaceId,
        new storage.GetSpaceRequest({ unionId: sb.options.unionId }),
        new storage.GetSpaceHeaders({ xAcsDingtalkAccessToken: "stale" }),
        runtime(),
      ),
    );
    expect([err.statusCode, err.code]).toEqual([400, "InvalidAuthentication"]);
  });
});
