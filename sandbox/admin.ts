/** Admin endpoints under /__sandbox/, for other processes (CLI, chaos tool, benchmark). No auth. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { parseFaultRules } from "./faults";
import { DingTalkError, sendJson } from "./http";
import { type SandboxState, zeroCalls } from "./state";

export const ADMIN_PREFIX = "/__sandbox/";

const generatedFileSchema = z.strictObject({
  name: z.string().min(1),
  size: z.number().int().nonnegative(),
  parentPath: z.string().optional(),
  seed: z.string().optional(),
});

/** Rename and/or move: paths relative to the space root, e.g. {"from": "docs/a.txt", "to": "docs/b.txt"}. */
const moveSchema = z.strictObject({ from: z.string().min(1), to: z.string().min(1) });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
}

export async function handleAdmin(state: SandboxState, req: IncomingMessage, res: ServerResponse, url: URL) {
  const route = `${req.method} ${url.pathname.slice(ADMIN_PREFIX.length - 1)}`;
  const bad = (message: string) => sendJson(res, 400, { code: "badRequest", message });
  try {
    switch (route) {
      case "GET /state":
        return sendJson(res, 200, {
          calls: state.calls,
          sentLinks: state.links,
          faults: state.faults.list(),
          options: {
            url: state.baseUrl,
            appKey: state.options.appKey,
            unionId: state.options.unionId,
            spaceId: state.options.spaceId,
            conversationId: state.options.conversationId,
          },
        });
      case "POST /faults": {
        const parsed = parseFaultRules(await readJson(req));
        if ("error" in parsed) return bad(parsed.error);
        state.faults.add(...parsed.rules);
        return sendJson(res, 200, { added: parsed.rules.length, faults: state.faults.list() });
      }
      case "DELETE /faults":
        state.faults.clear();
        return sendJson(res, 200, { faults: [] });
      case "POST /files": {
        const parsed = generatedFileSchema.safeParse(await readJson(req));
        if (!parsed.success) return bad(z.prettifyError(parsed.error));
        return sendJson(res, 200, { dentryId: state.putGeneratedFile(parsed.data) });
      }
      case "POST /move": {
        const parsed = moveSchema.safeParse(await readJson(req));
        if (!parsed.success) return bad(z.prettifyError(parsed.error));
        return sendJson(res, 200, { dentryId: state.moveDentry(parsed.data.from, parsed.data.to) });
      }
      case "POST /expire-tokens":
        req.resume(); // any body is ignored
        state.tokens.expireAll();
        return sendJson(res, 200, { expired: true });
      case "POST /reset-calls":
        state.calls = zeroCalls();
        return sendJson(res, 200, { calls: state.calls });
      default:
        return sendJson(res, 404, { code: "notFound", message: `no admin endpoint ${route}` });
    }
  } catch (err) {
    if (err instanceof SyntaxError) return bad(`body is not JSON: ${err.message}`);
    if (err instanceof DingTalkError) return bad(err.message);
    return bad(err instanceof Error ? err.message : String(err));
  }
}
