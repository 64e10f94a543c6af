/**
 * S3 entry points (/services/Walrus, /services/objectstorage and the root of the S3
 * port). The object store arrives with the Walrus work; until then every request
 * gets S3's own `NotImplemented` answer, never a fake success.
 */
import { Hono, type Context } from "hono";
import type { Logger } from "pino";
import type { IdGenerator } from "../../common/ids";

function s3Error(code: string, message: string, requestId: string, resource: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message><Resource>${esc(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

export function createS3PlaceholderApp(o: { ids: IdGenerator; log: Logger; prefixes: readonly string[] }): Hono {
  const app = new Hono();
  const handler = (c: Context) => {
    const requestId = o.ids.requestId();
    const path = new URL(c.req.url).pathname;
    o.log.info({ requestId, api: "s3", action: null, status: 501, ms: 0, user: null, error: "NotImplemented" }, "request");
    return c.body(s3Error("NotImplemented", "The object store is not available in this release of euca.", requestId, path), 501, {
      "content-type": "application/xml",
      "x-amz-request-id": requestId,
    });
  };
  for (const prefix of o.prefixes) {
    app.all(prefix, handler);
    app.all(`${prefix === "/" ? "" : prefix}/*`, handler);
  }
  return app;
}
