/**
 * The instance metadata service: /latest/… and /YYYY-MM-DD/…, on the EC2 port (the
 * instance is the one whose private address the request comes from — never a header),
 * and on each node of the LAN modes (the instance is the one whose port the request came
 * in by, as the node's filter translated its source; the CLC answers, net/lan.ts).
 * IMDSv2: PUT /latest/api/token hands an instance a session token bound to it (./tokens.ts); a
 * request carrying X-aws-ec2-metadata-token must present a valid one (requests
 * without a token are still answered, as IMDSv1 is in EC2's default mode).
 */
import { Hono, type Context } from "hono";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import { remoteAddressOf } from "../../server/node-env";
import {
  answerMetadata,
  metadataContextFor,
  type MetadataAnswer,
  type MetadataSources,
} from "../../roles/clc/metadata/metadata";
import { MetadataTokens } from "./tokens";
import { logRequest } from "../../server/request-log";

const MAX_TTL = 21600;

/** The instance a request is from, and what its paths answer. */
export interface MetadataCaller {
  instanceId: string;
  answer(path: string, requestId: string): Promise<MetadataAnswer | undefined>;
}

/** The CLC's callers: the instance at the request's source address. */
export const callersByAddress =
  (sources: MetadataSources) =>
  (ip: string): MetadataCaller | undefined => {
    const ctx = metadataContextFor(sources, ip);
    return ctx && { instanceId: ctx.instance.id, answer: async (path) => answerMetadata(ctx, path) };
  };

export function createMetadataApp(o: {
  callerOf: (ip: string) => MetadataCaller | undefined;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
}): Hono {
  const app = new Hono();
  const tokens = new MetadataTokens();

  const callerIp = (c: Context) => (remoteAddressOf(c) ?? "").replace(/^::ffff:/, "");
  const text = (c: Context, status: number, body: string, type = "text/plain") =>
    c.body(body, status as 200, { "content-type": type });

  app.put("/latest/api/token", (c) => {
    const ttl = Number(c.req.header("x-aws-ec2-metadata-token-ttl-seconds"));
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL)
      return text(c, 400, "Bad Request: X-aws-ec2-metadata-token-ttl-seconds must be 1-21600\n");
    if (c.req.header("x-forwarded-for")) return text(c, 403, "Forbidden\n"); // tokens are not handed through proxies, as in EC2
    // Tokens are for instances: any other caller gets what it gets for metadata, nothing.
    const ip = callerIp(c);
    const caller = o.callerOf(ip);
    if (!caller) return text(c, 404, "Not Found\n", "text/html");
    const token = tokens.issue(caller.instanceId, ip, ttl, o.clock.now().getTime());
    return c.body(token, 200, { "content-type": "text/plain", "x-aws-ec2-metadata-token-ttl-seconds": String(ttl) });
  });

  const handle = (prefixLength: number) => async (c: Context) => {
    const started = performance.now();
    const requestId = o.ids.requestId();
    const ip = callerIp(c);
    const path = new URL(c.req.url).pathname.slice(prefixLength);
    const done = (status: number, res: Response) => {
      logRequest(o.log, { requestId, api: "metadata", action: path || "/", status, started, user: null, caller: ip });
      return res;
    };
    const token = c.req.header("x-aws-ec2-metadata-token");
    const caller = o.callerOf(ip);
    if (token !== undefined && !tokens.valid(token, caller?.instanceId, ip, o.clock.now().getTime()))
      return done(401, text(c, 401, "Unauthorized\n"));
    if (!caller) return done(404, text(c, 404, "Not Found\n", "text/html"));
    let answer: MetadataAnswer | undefined;
    try {
      answer = await caller.answer(path, requestId);
    } catch (e) {
      o.log.warn({ requestId, err: (e as Error).message }, "metadata: the CLC did not answer");
      return done(503, text(c, 503, "Service Unavailable\n"));
    }
    if (!answer) return done(404, text(c, 404, "Not Found\n", "text/html"));
    if (answer.kind === "listing") return done(200, text(c, 200, answer.entries.join("\n")));
    return done(200, text(c, 200, answer.text, answer.contentType ?? "text/plain"));
  };

  app.get("/latest", handle("/latest".length));
  app.get("/latest/*", handle("/latest".length));
  for (const version of [
    "2007-01-19",
    "2007-03-01",
    "2008-02-01",
    "2008-09-01",
    "2009-04-04",
    "2011-01-01",
    "2012-01-12",
    "2014-02-25",
    "2016-09-02",
    "2018-09-24",
  ]) {
    app.get(`/${version}`, handle(version.length + 1));
    app.get(`/${version}/*`, handle(version.length + 1));
  }
  return app;
}
