/**
 * How pages and actions are declared: a page needs a signed-in user (or an admin), an
 * action is a POST whose outcome comes back as a flash message on the page it
 * redirects to (post/redirect/get), whatever went wrong said in plain words.
 */
import type { Context } from "hono";
import { FLASH_COOKIE, cookie } from "./security";
import { toWebError } from "./errors";
import { page, type Markup } from "./layout";
import type { SessionUser } from "../../roles/clc/web/web-accounts";
import type { WebApp, WebContext, WebDeps, WebRequest } from "./context";
import { html } from "hono/html";
import { InvalidParameterError } from "../../common/errors";

const ORIGIN = "https://origin.invalid";

/**
 * Where a login may send the browser next: a path of this site, else `/`. Refused: no
 * leading `/`, control characters or backslashes (browsers drop tabs and newlines and
 * read `\` as `/`, so `/\t/evil` and `/\\evil` are other hosts), and anything that
 * does not resolve to this origin. The answer is the path as the URL parser writes it
 * (ASCII only, so it is always a valid Location header).
 */
export function localPath(next: string | undefined): string {
  if (!next || next[0] !== "/" || /[\u0000-\u001f\u007f\\]/.test(next)) return "/";
  let u: URL;
  try {
    u = new URL(next, ORIGIN);
  } catch {
    return "/";
  }
  if (u.origin !== ORIGIN) return "/";
  const path = `${u.pathname}${u.search}${u.hash}`;
  return path.startsWith("//") ? "/" : path;
}

export type Form = Record<string, string | string[]>;

/** What a form that cannot be read (a malformed multipart body, say) is told: a 400, never a 500. */
export const UNREADABLE_FORM =
  "The form could not be read (its body is not a well-formed form): reload the page and send it again";

/** The request's form fields (parsed once per request; later calls get the same). */
export async function formOf(c: Context): Promise<Form> {
  let body: Awaited<ReturnType<typeof c.req.parseBody>>;
  try {
    body = await c.req.parseBody({ all: true });
  } catch {
    throw new InvalidParameterError("form", UNREADABLE_FORM);
  }
  const out: Form = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === "string");
  }
  return out;
}

export const one = (f: Form, name: string): string => {
  const v = f[name];
  return (Array.isArray(v) ? v[0] : v) ?? "";
};
export const many = (f: Form, name: string): string[] => {
  const v = f[name];
  return Array.isArray(v) ? v : v === undefined || v === "" ? [] : [v];
};

/** A page that needs a user; the admin's pages need an admin. Not signed in: to the login page. */
export async function requireUser(
  c: WebContext,
  o: { admin?: boolean } = {},
): Promise<{ web: WebRequest; user: SessionUser } | Response> {
  const web = c.get("web");
  const u = web.user;
  if (!u) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
  if (u.mustChangePassword && c.req.path !== "/password") return c.redirect("/password", 303);
  if (o.admin && !u.isAdmin)
    return c.html(page(web.view, "Not allowed", html`<p>This page is for the cloud's administrators.</p>`), 403);
  return { web, user: u };
}

export function redirectWith(c: WebContext, d: WebDeps, to: string, kind: "ok" | "error", text: string): Response {
  c.header("set-cookie", cookie(FLASH_COOKIE, d.signer.flash(kind, text), { maxAgeSeconds: 60 }), { append: true });
  return c.redirect(to, 303);
}

/** Runs an action; success and failure alike come back to `back` with a message. */
export async function act(
  c: WebContext,
  d: WebDeps,
  back: string,
  fn: () => Promise<string> | string,
): Promise<Response> {
  const web = c.get("web");
  try {
    return redirectWith(c, d, back, "ok", await fn());
  } catch (e) {
    const r = toWebError(e, web.requestId);
    if (r.fault === "server") d.log.error({ requestId: web.requestId, err: e }, "web: action failed");
    return redirectWith(c, d, back, "error", r.message);
  }
}

type Handler = (c: WebContext, u: SessionUser, web: WebRequest) => Promise<Response> | Response;

export function userGet(app: WebApp, path: string, h: Handler, o: { admin?: boolean } = {}): void {
  app.get(path, async (c) => {
    const r = await requireUser(c, o);
    return r instanceof Response ? r : h(c, r.user, r.web);
  });
}

export function userPost(app: WebApp, path: string, h: Handler, o: { admin?: boolean } = {}): void {
  app.post(path, async (c) => {
    const r = await requireUser(c, o);
    return r instanceof Response ? r : h(c, r.user, r.web);
  });
}

/** Renders a page, or its error in plain words with the error's status. */
export async function render(
  c: WebContext,
  d: WebDeps,
  title: string,
  body: () => Promise<Markup> | Markup,
): Promise<Response> {
  const web = c.get("web");
  try {
    return c.html(page(web.view, title, await body()));
  } catch (e) {
    const r = toWebError(e, web.requestId);
    if (r.fault === "server") d.log.error({ requestId: web.requestId, err: e }, "web: page failed");
    return c.html(page(web.view, title, html`<p class="flash error" role="alert">${r.message}</p>`), r.status);
  }
}
