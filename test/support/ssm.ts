/**
 * A local SSM Parameter Store speaking the AWS JSON 1.1 protocol for GetParameter (what Powertools parameters
 * calls), so the real SDK client and the real Powertools cache run against it (AWS_ENDPOINT_URL_SSM). It
 * holds SecureStrings by name, can change or delete them (a rotation), and counts the reads.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface LocalSsm {
  endpoint: string;
  put(name: string, value: string): void;
  delete(name: string): void;
  /** GetParameter calls per parameter name so far. */
  reads(name: string): number;
  stop(): Promise<void>;
}

export async function startLocalSsm(initial: Record<string, string> = {}): Promise<LocalSsm> {
  const values = new Map(Object.entries(initial));
  const reads = new Map<string, number>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(body));
    };
    if (req.headers["x-amz-target"] !== "AmazonSSM.GetParameter") {
      return answer(400, {
        __type: "InvalidAction",
        message: `not implemented: ${req.headers["x-amz-target"]}`,
      });
    }
    const { Name, WithDecryption } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      Name: string;
      WithDecryption?: boolean;
    };
    reads.set(Name, (reads.get(Name) ?? 0) + 1);
    const value = values.get(Name);
    if (value === undefined) return answer(400, { __type: "ParameterNotFound", message: "" });
    // A SecureString read without decryption would answer the ciphertext: make that mistake visible.
    const shown = WithDecryption ? value : `encrypted:${Buffer.from(value).toString("base64")}`;
    return answer(200, { Parameter: { Name, Type: "SecureString", Value: shown, Version: 1 } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    put: (name, value) => void values.set(name, value),
    delete: (name) => void values.delete(name),
    reads: (name) => reads.get(name) ?? 0,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
