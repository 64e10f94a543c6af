/** Logging in and out, applying for an account, confirming it, recovering and changing a password. */
import { html } from "hono/html";
import { SESSION_COOKIE, cookie, createRateLimiter } from "../security";
import { field, form, page, textarea } from "../layout";
import { toWebError } from "../errors";
import { formOf, localPath, one, redirectWith, requireUser } from "../routing";
import type { WebApp, WebContext, WebDeps } from "../context";
import type { SignupField } from "../../../config/settings";

const EXTRA_LABELS: Record<SignupField, string> = {
  telephone: "Telephone",
  affiliation: "Affiliation",
  projectLeader: "Project leader",
  description: "What you will use the cloud for",
};

export function authRoutes(app: WebApp, d: WebDeps): void {
  // Per address, on top of each user's lockout: bounds guessing across many names.
  const attempts = createRateLimiter({ limit: 30, windowMs: 5 * 60_000 });
  const signups = createRateLimiter({ limit: 10, windowMs: 60 * 60_000 });

  const failure = (c: WebContext, title: string, body: (message: string) => ReturnType<typeof html>, e: unknown) => {
    const web = c.get("web");
    const r = toWebError(e, web.requestId);
    if (r.fault === "server") d.log.error({ requestId: web.requestId, err: e }, "web: request failed");
    return c.html(page({ ...web.view, flash: { kind: "error", text: r.message } }, title, body(r.message)), r.status);
  };

  const loginForm = (c: WebContext, next: string, name = "") =>
    form(
      c.get("web").view,
      "/login",
      html`
<input type="hidden" name="next" value="${next}">
${field("User name", "userName", { required: true, autocomplete: "username", value: name })}
${field("Password", "password", { type: "password", required: true, autocomplete: "current-password" })}
<button type="submit">Log in</button>`,
      { label: "Log in" },
    );
  const loginBody = (c: WebContext, next: string, name = "") => html`${loginForm(c, next, name)}
<p><a href="/apply">Apply for an account</a> · <a href="/recover">Forgot your password?</a></p>`;

  app.get("/login", (c) => {
    const web = c.get("web");
    if (web.user) return c.redirect("/", 303);
    return c.html(page(web.view, "Log in", loginBody(c, localPath(c.req.query("next")))));
  });

  app.post("/login", async (c) => {
    const web = c.get("web");
    const f = await formOf(c);
    const next = localPath(one(f, "next"));
    // What is echoed back (and audited when rate-limited) is at most a user name's length.
    const name = one(f, "userName").trim();
    const shown = name.slice(0, 64);
    try {
      if (!attempts.take(web.address)) {
        d.audit.record({ actor: shown, action: "login-rate-limited", address: web.address });
        const flash = { kind: "error" as const, text: "Too many login attempts from your address: wait a few minutes" };
        return c.html(page({ ...web.view, flash }, "Log in", loginBody(c, next, shown)), 429);
      }
      const { sessionId, user } = await d.accounts.login(name, one(f, "password"), web.address);
      c.header("set-cookie", cookie(SESSION_COOKIE, sessionId), { append: true });
      return c.redirect(user.mustChangePassword ? "/password" : next, 303);
    } catch (e) {
      return failure(c, "Log in", () => loginBody(c, next, shown), e);
    }
  });

  app.post("/logout", (c) => {
    const web = c.get("web");
    if (web.sessionId) d.accounts.logout(web.sessionId, web.user, web.address);
    c.header("set-cookie", cookie(SESSION_COOKIE, "", { maxAgeSeconds: 0 }), { append: true });
    return c.redirect("/login", 303);
  });

  const applyBody = (c: WebContext, values: Record<string, string> = {}) =>
    form(
      c.get("web").view,
      "/apply",
      html`
<p>The cloud's administrators look at every application; once yours is approved you are mailed a link that opens your account.</p>
${field("User name", "userName", { required: true, autocomplete: "username", value: values.userName, hint: "1-30 letters, digits, '_', '.', '@' or '-'" })}
${field("Password", "password", { type: "password", required: true, autocomplete: "new-password", hint: "at least 8 characters" })}
${field("Password again", "password2", { type: "password", required: true, autocomplete: "new-password" })}
${field("Full name", "fullName", { required: true, autocomplete: "name", value: values.fullName })}
${field("E-mail address", "email", { type: "email", required: true, autocomplete: "email", value: values.email })}
${d.accounts.signupFields.map((x) => (x === "description" ? textarea(EXTRA_LABELS[x], x, { value: values[x] }) : field(EXTRA_LABELS[x], x, { value: values[x], autocomplete: x === "telephone" ? "tel" : undefined })))}
<button type="submit">Apply</button>`,
      { label: "Apply for an account" },
    );

  app.get("/apply", (c) => c.html(page(c.get("web").view, "Apply for an account", applyBody(c))));

  app.post("/apply", async (c) => {
    const web = c.get("web");
    const f = await formOf(c);
    const values = Object.fromEntries(
      ["userName", "fullName", "email", ...d.accounts.signupFields].map((k) => [k, one(f, k)]),
    );
    try {
      if (!signups.take(web.address)) throw Object.assign(new Error("rate"), { rate: true });
      await d.accounts.apply(
        {
          userName: one(f, "userName"),
          password: one(f, "password"),
          password2: one(f, "password2"),
          fullName: one(f, "fullName"),
          email: one(f, "email"),
          extras: Object.fromEntries(d.accounts.signupFields.map((k) => [k, one(f, k)])),
        },
        web.address,
      );
      return c.html(
        page(
          {
            ...web.view,
            flash: {
              kind: "ok",
              text: "Thank you: your application was sent to the administrators. You will get an e-mail once they have looked at it.",
            },
          },
          "Application sent",
          html`<p><a href="/login">Back to the login page</a></p>`,
        ),
      );
    } catch (e) {
      if ((e as { rate?: boolean }).rate)
        return c.html(
          page(
            { ...web.view, flash: { kind: "error", text: "Too many applications from your address: try again later" } },
            "Apply for an account",
            applyBody(c, values),
          ),
          429,
        );
      return failure(c, "Apply for an account", () => applyBody(c, values), e);
    }
  });

  // The mailed link shows a button (a mail scanner following links must not confirm).
  app.get("/confirm", (c) =>
    c.html(
      page(
        c.get("web").view,
        "Confirm your account",
        form(
          c.get("web").view,
          "/confirm",
          html`
<input type="hidden" name="code" value="${c.req.query("code") ?? ""}">
<p>Your application was approved. Confirm to open your account; then log in with the password you chose.</p>
<button type="submit">Confirm my account</button>`,
        ),
      ),
    ),
  );

  app.post("/confirm", async (c) => {
    const web = c.get("web");
    const f = await formOf(c);
    try {
      const name = await d.accounts.confirm(one(f, "code"), web.address);
      return redirectWith(
        c,
        d,
        `/login?next=${encodeURIComponent("/credentials")}`,
        "ok",
        `Your account '${name}' is ready: log in`,
      );
    } catch (e) {
      return failure(c, "Confirm your account", () => html`<p><a href="/login">Back to the login page</a></p>`, e);
    }
  });

  app.get("/recover", (c) =>
    c.html(
      page(
        c.get("web").view,
        "Forgot your password?",
        form(
          c.get("web").view,
          "/recover",
          html`
${field("User name or e-mail address", "who", { required: true, autocomplete: "username" })}
<button type="submit">Mail me a reset link</button>`,
        ),
      ),
    ),
  );

  app.post("/recover", async (c) => {
    const web = c.get("web");
    const f = await formOf(c);
    if (signups.take(web.address)) await d.accounts.requestReset(one(f, "who"), web.address);
    return c.html(
      page(
        {
          ...web.view,
          flash: { kind: "ok", text: "If that user exists and has an e-mail address, a reset link is on its way." },
        },
        "Forgot your password?",
        html`<p><a href="/login">Back to the login page</a></p>`,
      ),
    );
  });

  const resetBody = (c: WebContext, code: string) =>
    form(
      c.get("web").view,
      "/reset",
      html`
<input type="hidden" name="code" value="${code}">
${field("New password", "password", { type: "password", required: true, autocomplete: "new-password" })}
${field("New password again", "password2", { type: "password", required: true, autocomplete: "new-password" })}
<button type="submit">Set the password</button>`,
    );

  app.get("/reset", (c) =>
    c.html(page(c.get("web").view, "Choose a new password", resetBody(c, c.req.query("code") ?? ""))),
  );
  app.post("/reset", async (c) => {
    const web = c.get("web");
    const f = await formOf(c);
    try {
      const name = await d.accounts.reset(one(f, "code"), one(f, "password"), one(f, "password2"), web.address);
      return redirectWith(c, d, "/login", "ok", `The password of '${name}' was changed: log in`);
    } catch (e) {
      return failure(c, "Choose a new password", () => resetBody(c, one(f, "code")), e);
    }
  });

  const passwordBody = (c: WebContext) =>
    form(
      c.get("web").view,
      "/password",
      html`
${c.get("web").user?.mustChangePassword ? html`<p>Choose your own password before you go on.</p>` : ""}
${field("Current password", "current", { type: "password", required: true, autocomplete: "current-password" })}
${field("New password", "password", { type: "password", required: true, autocomplete: "new-password" })}
${field("New password again", "password2", { type: "password", required: true, autocomplete: "new-password" })}
<button type="submit">Change the password</button>`,
    );

  app.get("/password", async (c) => {
    const r = await requireUser(c);
    return r instanceof Response ? r : c.html(page(r.web.view, "Change your password", passwordBody(c)));
  });
  app.post("/password", async (c) => {
    const r = await requireUser(c);
    if (r instanceof Response) return r;
    const f = await formOf(c);
    try {
      const sessionId = await d.accounts.changePassword(
        r.user,
        one(f, "current"),
        one(f, "password"),
        one(f, "password2"),
        r.web.address,
      );
      // Every session of the user ended with the old password; this browser gets a new one.
      c.header("set-cookie", cookie(SESSION_COOKIE, sessionId), { append: true });
      return redirectWith(c, d, "/", "ok", "Your password was changed");
    } catch (e) {
      return failure(c, "Change your password", () => passwordBody(c), e);
    }
  });
}
