import { Hono } from "hono";

/**
 * What a port that gives its users HTTPS answers in plain HTTP: `app`'s routes (guests'
 * metadata, hosts' signed calls, the heartbeat) and, for anything else, 400 with where to
 * go instead — never the request served in clear.
 */
export function plainOnly(app: Hono): Hono {
  const plain = new Hono();
  plain.route("/", app);
  plain.notFound((c) => {
    const host = c.req.header("host") ?? "this host";
    return c.text(`This endpoint speaks HTTPS: use https://${host}${new URL(c.req.url).pathname}\n`, 400);
  });
  return plain;
}
