/**
 * A local SSM endpoint speaking the service's wire protocol (AWS JSON 1.1, `X-Amz-Target: AmazonSSM.*`) for
 * the calls the functions make: GetParameter and GetParameters. The real SDK and Powertools Parameters run
 * against it unchanged (AWS_ENDPOINT_URL_SSM). SecureStrings are stored in clear: nothing here is secret.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SsmServer {
  endpoint: string;
  parameters: Map<string, string>;
  close(): Promise<void>;
}

const ACCOUNT = "000000000000";

export async function startSsmServer(parameters: Record<string, string> = {}): Promise<SsmServer> {
  const stored = new Map(Object.entries(parameters));
  const describe = (name: string) => ({
    Name: name,
    Type: "SecureString",
    Value: stored.get(name),
    Version: 1,
    ARN: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${name}`,
    DataType: "text",
  });
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const answer = (status: number, body: unknown) => {
        response.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        response.end(JSON.stringify(body));
      };
      const target = String(request.headers["x-amz-target"] ?? "");
      let input: { Name?: string; Names?: string[] };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        return answer(400, { __type: "SerializationException", message: "body is not JSON" });
      }
      switch (target) {
        case "AmazonSSM.GetParameter": {
          const name = input.Name ?? "";
          if (!stored.has(name))
            return answer(400, { __type: "ParameterNotFound", message: `${name} not found` });
          return answer(200, { Parameter: describe(name) });
        }
        case "AmazonSSM.GetParameters": {
          const names = input.Names ?? [];
          return answer(200, {
            Parameters: names.filter((n) => stored.has(n)).map(describe),
            InvalidParameters: names.filter((n) => !stored.has(n)),
          });
        }
        default:
          return answer(400, { __type: "InvalidAction", message: `${target} is not implemented here` });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    parameters: stored,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
