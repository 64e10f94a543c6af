/**
 * The web interface (HTTPS on --web-port): server-rendered pages over the same role
 * services as the APIs. Every request gets an id, security headers and no-store; a
 * session cookie (or, before login, a pre-session cookie) binds the CSRF token every
 * POST must carry; one log line per request.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compress } from "hono/compress";
import { getConnInfo } from "@hono/node-server/conninfo";
import { html } from "hono/html";
import { logRequest } from "../../server/request-log";
import {
  CSRF_FIELD,
  FLASH_COOKIE,
  PRE_COOKIE,
  SESSION_COOKIE,
  cookie,
  newCookieValue,
  readCookies,
  securityHeaders,
} from "./security";
import { page } from "./layout";
import { toWebError } from "./errors";
import { formOf } from "./routing";
import type { WebDeps, WebEnv } from "./context";
import { assetRoutes } from "./assets";
import { authRoutes } from "./pages/auth";
import { dashboardRoutes } from "./pages/dashboard";
import { instanceRoutes } from "./pages/instances";
import { computeRoutes } from "./pages/compute";
import { bucketRoutes } from "./pages/buckets";
import { volumeRoutes } from "./pages/volumes";
import { credentialRoutes } from "./pages/credentials";
import { adminRoutes } from "./pages/admin";

const MAX_FORM_BYTES = 1024 * 1024;

export function createWebApp(d: WebDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();

  app.use("*", async (c, next) => {
    const started = performance.now();
    const requestId = d.ids.requestId();
    let address: string;
    try {
      address = getConnInfo(c).remote.address ?? "";
    } catch {
      address = "";
    }
    const cookies = readCookies(c.req.header("cookie"));
    const sessionId = cookies.get(SESSION_COOKIE);
    const user = sessionId ? d.accounts.session(sessionId) : undefined;
    let pre = cookies.get(PRE_COOKIE);
    if (!user && !pre) {
      pre = newCookieValue();
      c.header("set-cookie", cookie(PRE_COOKIE, pre), { append: true });
    }
    if (sessionId && !user) c.header("set-cookie", cookie(SESSION_COOKIE, "", { maxAgeSeconds: 0 }), { append: true });
    const csrf = user ? d.signer.csrfToken("session", sessionId!) : d.signer.csrfToken("pre", pre!);
    const flash = d.signer.readFlash(cookies.get(FLASH_COOKIE));
    if (cookies.has(FLASH_COOKIE))
      c.header("set-cookie", cookie(FLASH_COOKIE, "", { maxAgeSeconds: 0 }), { append: true });
    c.set("web", {
      requestId,
      address,
      sessionId: user ? sessionId : undefined,
      user,
      ctx: { requestId },
      view: { user, csrf, path: c.req.path, flash },
    });
    for (const [k, v] of Object.entries(securityHeaders({ formTargets: [new URL(d.endpoints().s3Url).origin] })))
      c.header(k, v);
    c.header("x-request-id", requestId);
    try {
      await next();
    } finally {
      if (!c.req.path.startsWith("/static/")) {
        if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
        logRequest(d.log, {
          requestId,
          api: "web",
          action: `${c.req.method} ${c.req.routePath ?? c.req.path}`,
          status: c.res.status,
          started,
          user: user?.userName ?? null,
          address,
        });
      }
    }
  });

  // Pages are gzipped for browsers that take it (a thousand instances' rows are ~900 KB of
  // HTML); the event stream is not (a compressor would hold its events back).
  const gzip = compress({ encoding: "gzip" });
  app.use("*", (c, next) =>
    c.req.path === "/instances/events" || c.req.path.startsWith("/static/") ? next() : gzip(c, next),
  );

  // Forms are small; an upload goes to Walrus, not here.
  app.post(
    "*",
    bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.text("The form is too large\n", 413) }),
    async (c, next) => {
      const web = c.get("web");
      let token = c.req.header("x-csrf-token");
      const type = c.req.header("content-type") ?? "";
      if (
        token === undefined &&
        (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data"))
      ) {
        const f = await formOf(c);
        token = typeof f[CSRF_FIELD] === "string" ? (f[CSRF_FIELD] as string) : undefined;
      }
      const cookies = readCookies(c.req.header("cookie"));
      const valid = web.user
        ? d.signer.csrfValid("session", web.sessionId!, token)
        : d.signer.csrfValid("pre", cookies.get(PRE_COOKIE) ?? "", token);
      if (!valid) {
        d.log.warn(
          { requestId: web.requestId, path: c.req.path, address: web.address },
          "web: form refused: missing or wrong CSRF token",
        );
        return c.html(
          page(
            web.view,
            "Form refused",
            html`<p class="flash error" role="alert">This form was refused: it has expired or did not come from this site. Go back, reload the page and try again.</p>`,
          ),
          403,
        );
      }
      return next();
    },
  );

  assetRoutes(app);
  authRoutes(app, d);
  dashboardRoutes(app, d);
  instanceRoutes(app, d);
  computeRoutes(app, d);
  volumeRoutes(app, d);
  bucketRoutes(app, d);
  credentialRoutes(app, d);
  adminRoutes(app, d);
  app.notFound((c) =>
    c.html(
      page(
        c.get("web").view,
        "Not found",
        html`<p>There is no page at this address. <a href="/">Back to the dashboard</a>.</p>`,
      ),
      404,
    ),
  );
  // A domain error no page caught (an unreadable form, say) keeps its own status and words.
  app.onError((e, c) => {
    const web = c.get("web");
    const r = toWebError(e, web?.requestId ?? "?");
    if (r.fault === "server") d.log.error({ requestId: web?.requestId, err: e }, "web: request failed");
    if (!web) return c.text(`${r.message}\n`, r.status);
    return c.html(
      page(web.view, "Request refused", html`<p class="flash error" role="alert">${r.message}</p>`),
      r.status,
    );
  });
  return app;
}
