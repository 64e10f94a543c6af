/**
 * The page shell and the few building blocks every page shares: navigation, flash
 * messages, forms that always carry their CSRF token, labelled fields, tables. Markup
 * is built with hono's `html` tag, which escapes every interpolated value; `raw` is
 * used only for markup made here.
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { CSRF_FIELD } from "./security";
import type { SessionUser } from "../../roles/clc/web/web-accounts";

export type Markup = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What every page knows about its request. */
export interface View {
  user?: SessionUser;
  csrf: string;
  path: string;
  flash?: { kind: "ok" | "error"; text: string };
  /** Scripts (under /static/) the page loads. */
  scripts?: string[];
}

const USER_NAV: Array<[string, string]> = [
  ["/", "Dashboard"],
  ["/instances", "Instances"],
  ["/images", "Images"],
  ["/key-pairs", "Key pairs"],
  ["/security-groups", "Security groups"],
  ["/addresses", "Addresses"],
  ["/volumes", "Volumes"],
  ["/snapshots", "Snapshots"],
  ["/buckets", "Buckets"],
  ["/credentials", "Credentials"],
];
const ADMIN_NAV: Array<[string, string]> = [
  ["/admin/users", "Users"],
  ["/admin/applications", "Applications"],
  ["/admin/clusters", "Clusters"],
  ["/admin/vm-types", "VM types"],
  ["/admin/settings", "Settings"],
  ["/admin/audit", "Audit log"],
  ["/admin/outbox", "Outbox"],
];

function navList(v: View, items: Array<[string, string]>): Markup {
  const current = (href: string) => (href === "/" ? v.path === "/" : v.path === href || v.path.startsWith(`${href}/`));
  return html`${items.map(([href, label]) => html`<li><a href="${href}"${current(href) ? raw(' aria-current="page"') : ""}>${label}</a></li>`)}`;
}

export function page(v: View, title: string, body: Markup): Markup {
  const u = v.user;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · euca</title>
<link rel="stylesheet" href="/static/euca.css">
<link rel="icon" href="data:,">
${(v.scripts ?? []).map((s) => html`<script src="/static/${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">euca</a>
  ${
    u
      ? html`<span class="who">${u.userName}${u.isAdmin ? " (admin)" : ""} · ${u.accountName}</span>
  <a href="/password">Password</a>
  ${form(v, "/logout", html`<button type="submit" class="link">Log out</button>`, { inline: true })}`
      : html`<a href="/login">Log in</a> <a href="/apply">Apply for an account</a>`
  }
</header>
${u && !u.mustChangePassword ? html`<nav aria-label="Your cloud"><ul>${navList(v, USER_NAV)}</ul>${u.isAdmin ? html`<ul class="admin" aria-label="Administration">${navList(v, ADMIN_NAV)}</ul>` : ""}</nav>` : ""}
<main id="main">
<h1>${title}</h1>
${v.flash ? html`<p class="flash ${v.flash.kind}" role="${v.flash.kind === "error" ? "alert" : "status"}">${v.flash.text}</p>` : ""}
${body}
</main>
</body>
</html>`;
}

/** A POST form with its CSRF token. */
export function form(
  v: View,
  action: string,
  body: Markup,
  o: { inline?: boolean; label?: string; enctype?: string } = {},
): Markup {
  return html`<form method="post" action="${action}"${o.inline ? raw(' class="inline"') : ""}${o.label ? html` aria-label="${o.label}"` : ""}${o.enctype ? html` enctype="${o.enctype}"` : ""}>
<input type="hidden" name="${CSRF_FIELD}" value="${v.csrf}">${body}</form>`;
}

/** One button that posts hidden fields (terminate, delete, approve …). */
export function button(
  v: View,
  action: string,
  label: string,
  fields: Record<string, string> = {},
  o: { danger?: boolean; describedBy?: string } = {},
): Markup {
  return form(
    v,
    action,
    html`${Object.entries(fields).map(([k, val]) => html`<input type="hidden" name="${k}" value="${val}">`)}<button type="submit"${o.danger ? raw(' class="danger"') : ""}${o.describedBy ? html` aria-label="${label} ${o.describedBy}"` : ""}>${label}</button>`,
    { inline: true },
  );
}

let fieldSeq = 0;
/** A labelled input; `id` defaults to one made from the name. */
export function field(
  label: string,
  name: string,
  o: {
    type?: string;
    value?: string;
    required?: boolean;
    autocomplete?: string;
    min?: number;
    max?: number;
    hint?: string;
    id?: string;
  } = {},
): Markup {
  const id = o.id ?? `f-${name}-${(fieldSeq = (fieldSeq + 1) % 1_000_000)}`;
  const hintId = o.hint ? `${id}-hint` : undefined;
  return html`<p class="field"><label for="${id}">${label}</label>
<input id="${id}" name="${name}" type="${o.type ?? "text"}"${o.value !== undefined ? html` value="${o.value}"` : ""}${o.required ? raw(" required") : ""}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ""}${o.min !== undefined ? html` min="${o.min}"` : ""}${o.max !== undefined ? html` max="${o.max}"` : ""}${hintId ? html` aria-describedby="${hintId}"` : ""}>
${o.hint ? html`<small id="${hintId}">${o.hint}</small>` : ""}</p>`;
}

export function select(
  label: string,
  name: string,
  options: ReadonlyArray<{ value: string; label: string }>,
  o: { value?: string; multiple?: boolean; required?: boolean } = {},
): Markup {
  const id = `f-${name}-${(fieldSeq = (fieldSeq + 1) % 1_000_000)}`;
  return html`<p class="field"><label for="${id}">${label}</label>
<select id="${id}" name="${name}"${o.multiple ? raw(" multiple") : ""}${o.required ? raw(" required") : ""}>${options.map((x) => html`<option value="${x.value}"${x.value === o.value ? raw(" selected") : ""}>${x.label}</option>`)}</select></p>`;
}

export function textarea(
  label: string,
  name: string,
  o: { value?: string; rows?: number; readonly?: boolean; required?: boolean } = {},
): Markup {
  const id = `f-${name}-${(fieldSeq = (fieldSeq + 1) % 1_000_000)}`;
  return html`<p class="field"><label for="${id}">${label}</label>
<textarea id="${id}" name="${name}" rows="${o.rows ?? 4}"${o.readonly ? raw(" readonly") : ""}${o.required ? raw(" required") : ""}>${o.value ?? ""}</textarea></p>`;
}

/** A table with a caption (for screen readers) and header cells; an empty one says so. */
export function table(
  caption: string,
  headers: readonly string[],
  rows: readonly Markup[],
  o: { id?: string; empty?: string } = {},
): Markup {
  if (!rows.length) return html`<p class="empty">${o.empty ?? `No ${caption.toLowerCase()}.`}</p>`;
  return html`<div class="scroll"><table${o.id ? html` id="${o.id}"` : ""}><caption>${caption}</caption>
<thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

export function when(d: Date | null | undefined): string {
  return d
    ? d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC")
    : "";
}

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

/** At most `n` characters of a value in a table cell (what the page shows of a field anyone can fill). */
export function clip(s: string, n = 120): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
