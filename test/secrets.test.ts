/**
 * scripts/stage-secrets.ts: the generated secrets are what their consumers accept (the Standard Webhooks
 * verifier, DingTalk's EncodingAESKey rules), rerunning keeps what exists, and a rotation keeps the old
 * webhook secret as `-previous` until it is finished.
 */
import { describe, expect, it } from "vitest";
import { callbackKeys } from "../lib/dingtalk-events/crypto";
import { signWebhook, verifyWebhook } from "../lib/signatures/verify";
import {
  generateEncodingAesKey,
  generateEventToken,
  generateWebhookSecret,
  instructions,
  parameterName,
  planSecrets,
} from "../scripts/stage-secrets";

const names = {
  app: "/dingtalk-file-bridge/prod/dingtalk-app-secret",
  sendLink: "/dingtalk-file-bridge/prod/webhook-secret-send-link",
  sendLinkPrevious: "/dingtalk-file-bridge/prod/webhook-secret-send-link-previous",
  archive: "/dingtalk-file-bridge/prod/webhook-secret-archive",
  token: "/dingtalk-file-bridge/prod/dingtalk-event-token",
  aesKey: "/dingtalk-file-bridge/prod/dingtalk-event-aes-key",
};

describe("generated secrets", () => {
  it("makes webhook secrets the verifier accepts, different every time", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    const body = '{"spaceId":"1"}';
    expect(verifyWebhook([secret], body, signWebhook(secret, "msg_1", body)).id).toBe("msg_1");
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it("makes a 43-character EncodingAESKey of letters and digits that decodes to a 32-byte AES key", () => {
    for (let i = 0; i < 200; i++) {
      const key = generateEncodingAesKey();
      expect(key).toMatch(/^[A-Za-z0-9]{43}$/);
      expect(callbackKeys("token", key, "app").key).toHaveLength(32);
    }
    expect(generateEventToken()).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it("draws characters without bias even from a source of only high bytes (skipped, then drawn again)", () => {
    let call = 0;
    // First draw: bytes 248..255 only (all skipped); then 0, 1, 2...: "ABC..."
    const random = (n: number) =>
      Buffer.from(Array.from({ length: n }, (_, i) => (call === 0 ? 248 + (i % 8) : i)));
    const counting = (n: number) => {
      const bytes = random(n);
      call++;
      return bytes;
    };
    expect(generateEventToken(counting)).toBe("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef");
    expect(call).toBe(2);
  });
});

describe("planSecrets", () => {
  it("creates every missing generated secret under the stage's names, and says the app secret is missing", () => {
    const steps = planSecrets({ stage: "prod", existing: new Set() });
    expect(steps.map((s) => [s.kind, s.kind === "copy" ? s.to : s.name])).toEqual([
      ["missing", names.app],
      ["put", names.sendLink],
      ["put", names.archive],
      ["put", names.token],
      ["put", names.aesKey],
    ]);
    expect(steps.every((s) => s.kind !== "put" || !s.overwrite)).toBe(true);
    const text = instructions("prod", steps);
    const token = steps.find((s) => s.kind === "put" && s.name === names.token);
    expect(text).toContain(`Token:           ${token?.kind === "put" ? token.value : "?"}`);
    expect(text).toContain("MISSING   /dingtalk-file-bridge/prod/dingtalk-app-secret");
  });

  it("keeps what exists on a rerun (senders already use it) and stores the app secret when given", () => {
    const existing = new Set(Object.values(names));
    const steps = planSecrets({ stage: "prod", existing, appSecret: "app-secret-value" });
    expect(steps.map((s) => s.kind)).toEqual(["put", "keep", "keep", "keep", "keep"]);
    expect(steps[0]).toMatchObject({ name: names.app, value: "app-secret-value", overwrite: true });
  });

  it("rotates a webhook secret: the current one is copied to -previous before a new one replaces it", () => {
    const existing = new Set(Object.values(names));
    const steps = planSecrets({ stage: "prod", existing, rotate: ["webhook-secret-send-link"] });
    const rotation = steps.filter((s) => s.kind !== "keep");
    expect(rotation).toEqual([
      { kind: "copy", from: names.sendLink, to: names.sendLinkPrevious, secret: "webhook-secret-send-link" },
      expect.objectContaining({ kind: "put", name: names.sendLink, overwrite: true }),
    ]);
    expect(instructions("prod", steps)).toMatch(
      /POST \/webhooks\/send-link their signing secret:\n {2}whsec_/,
    );
    const finished = planSecrets({ stage: "prod", existing, finish: ["webhook-secret-send-link"] });
    expect(finished.filter((s) => s.kind === "delete")).toEqual([
      { kind: "delete", name: names.sendLinkPrevious, secret: "webhook-secret-send-link" },
    ]);
  });

  it("refuses to rotate a secret that does not exist, or to rotate and finish at once", () => {
    expect(() =>
      planSecrets({ stage: "prod", existing: new Set(), rotate: ["webhook-secret-archive"] }),
    ).toThrow(/does not exist yet/);
    expect(() =>
      planSecrets({
        stage: "prod",
        existing: new Set(Object.values(names)),
        rotate: ["webhook-secret-archive"],
        finish: ["webhook-secret-archive"],
      }),
    ).toThrow(/not both/);
    expect(parameterName("dev", "webhook-secret-archive-previous")).toBe(
      "/dingtalk-file-bridge/dev/webhook-secret-archive-previous",
    );
  });
});
