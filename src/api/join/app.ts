/**
 * The head's join endpoint (on its internal listener, before the host has a certificate):
 * `GET /join/ca` gives the CA certificate, which the joining host checks against the
 * fingerprint in its token before it sends anything; `POST /join` takes the token's id and
 * secret, the host's certificate request, address and port, over TLS to the pinned CA.
 */
import { Hono } from "hono";
import type { Logger } from "pino";
import { EucaError } from "../../common/errors";
import { readBodyLimited, BodyTooLargeError } from "../../server/body";
import { logRequest } from "../../server/request-log";
import type { JoinGrant, JoinRequest } from "../../roles/clc/clusters/joins";

const STATUS: Record<string, number> = {
  AccessDenied: 403,
  InvalidParameter: 400,
  MissingParameter: 400,
  NotFound: 404,
  Duplicate: 409,
  Unavailable: 503,
};

export function createJoinApp(o: {
  caPem: () => string;
  redeem: (r: JoinRequest, ctx: { requestId: string }) => Promise<JoinGrant>;
  newRequestId: () => string;
  log: Logger;
}): Hono {
  const app = new Hono();
  app.get("/join/ca", (c) => c.text(o.caPem(), 200, { "content-type": "application/x-pem-file" }));
  app.post("/join", async (c) => {
    const started = performance.now();
    const requestId = o.newRequestId();
    const reply = (status: number, body: object) => {
      logRequest(o.log, { requestId, api: "join", action: "join", status, started, user: null, caller: null });
      return c.json(body, status as 200);
    };
    let input: Partial<JoinRequest>;
    try {
      input = JSON.parse((await readBodyLimited(c.req.raw, 64 * 1024)).toString("utf8")) as Partial<JoinRequest>;
    } catch (e) {
      return reply(e instanceof BodyTooLargeError ? 413 : 400, {
        error: { kind: "BadRequest", message: "The body must be a JSON join request under 64 KiB" },
      });
    }
    const r = {
      id: String(input.id ?? ""),
      secret: String(input.secret ?? ""),
      csrPem: String(input.csrPem ?? ""),
      address: String(input.address ?? ""),
      port: Number(input.port),
    };
    try {
      return reply(200, { grant: await o.redeem(r, { requestId }) });
    } catch (e) {
      if (e instanceof EucaError) return reply(STATUS[e.kind] ?? 400, { error: { kind: e.kind, message: e.message } });
      o.log.error({ requestId, err: e }, "join failed");
      return reply(500, { error: { kind: "Internal", message: "Internal error" } });
    }
  });
  return app;
}
