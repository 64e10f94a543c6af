/**
 * The admin's pages: users (add, approve applications, enable, disable, make admin,
 * unlock, delete), clusters and nodes with a capacity chart per zone, the VM types
 * editor, cloud settings, the audit log and the outbox. Every change is audited.
 */
import { html, raw } from "hono/html";
import { button, clip, field, form, table, textarea, when } from "../layout";
import { act, formOf, one, render, userGet, userPost } from "../routing";
import type { WebApp, WebDeps } from "../context";
import { health } from "./dashboard";
import { InvalidParameterError } from "../../../common/errors";

const USER_ACTIONS = ["enable", "disable", "make-admin", "revoke-admin", "unlock", "delete"] as const;
type UserAction = (typeof USER_ACTIONS)[number];

/** JSON inside a <script type="application/json"> block: nothing in it can close the block. */
const jsonBlock = (v: unknown) =>
  raw(JSON.stringify(v).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026"));

export function adminRoutes(app: WebApp, d: WebDeps): void {
  const admin = { admin: true };

  userGet(
    app,
    "/admin/users",
    (c, u, web) =>
      render(c, d, "Users", () => {
        const users = d.accounts.usersWithProfiles();
        const now = d.clock.now();
        return html`${table(
          "Users",
          ["User", "Account", "Name", "E-mail", "State", "Actions"],
          users.map((x) => {
            const locked = x.lockedUntil && x.lockedUntil > now;
            const acts: Array<[UserAction, string, boolean?]> = [
              x.enabled ? ["disable", "Disable"] : ["enable", "Enable"],
              x.isAdmin ? ["revoke-admin", "Revoke admin"] : ["make-admin", "Make admin"],
              ...(locked ? [["unlock", "Unlock"] as [UserAction, string]] : []),
              ["delete", "Delete", true],
            ];
            return html`<tr><th scope="row">${x.name}</th><td>${x.accountName}</td><td>${x.fullName}</td><td>${x.email}</td>
<td>${x.enabled ? "enabled" : "disabled"}${x.isAdmin ? ", admin" : ""}${locked ? `, login paused until ${when(x.lockedUntil)}` : ""}</td>
<td>${x.name === u.userName ? "(you)" : acts.map(([a, label, danger]) => button(web.view, "/admin/users/action", label, { user: x.name, action: a }, { danger, describedBy: x.name }))}</td></tr>`;
          }),
        )}
${form(
  web.view,
  "/admin/users/add",
  html`<fieldset><legend>Add a user</legend>${field("User name", "userName", { required: true })}${field("Full name", "fullName")}${field("E-mail address", "email", { type: "email" })}
<p class="field"><label><input type="checkbox" name="isAdmin" value="yes"> Cloud administrator</label></p><button type="submit">Add</button></fieldset>`,
)}`;
      }),
    admin,
  );
  userPost(
    app,
    "/admin/users/action",
    async (c, u, web) => {
      const f = await formOf(c);
      const action = one(f, "action") as UserAction;
      return act(c, d, "/admin/users", () => {
        if (!USER_ACTIONS.includes(action)) throw new InvalidParameterError("action", `Unknown action '${action}'`);
        d.accounts.adminAction(u, one(f, "user"), action, web.address);
        return `${one(f, "user")}: ${action} done`;
      });
    },
    admin,
  );
  userPost(
    app,
    "/admin/users/add",
    async (c, u, web) => {
      const f = await formOf(c);
      return render(c, d, "User added", async () => {
        const { password } = await d.accounts.addUser(
          u,
          {
            userName: one(f, "userName"),
            fullName: one(f, "fullName"),
            email: one(f, "email"),
            isAdmin: one(f, "isAdmin") === "yes",
          },
          web.address,
        );
        return html`<p class="flash ok" role="status">The user ${one(f, "userName")} was added. Give them this temporary password (shown only once); their first login chooses a new one.</p>
<p><code>${password}</code></p><p><a href="/admin/users">Back to users</a></p>`;
      });
    },
    admin,
  );

  userGet(
    app,
    "/admin/applications",
    (c, _u, web) =>
      render(c, d, "Account applications", () => {
        const apps = d.accounts.applications();
        return table(
          "Applications",
          ["User name", "Name", "E-mail", "Details", "Applied", "State", "Decision"],
          apps.map(
            (a) => html`<tr><th scope="row">${a.userName}</th><td>${a.fullName}</td><td>${a.email}</td>
<td>${Object.entries(a.extras).map(([k, v]) => html`<div><strong>${k}:</strong> ${v}</div>`)}</td><td>${when(a.createdAt)}</td><td>${a.state}${a.decidedBy ? ` by ${a.decidedBy}` : ""}</td>
<td>${
              a.state === "pending"
                ? html`${button(web.view, "/admin/applications/approve", "Approve", { id: a.id }, { describedBy: a.userName })}
${form(web.view, "/admin/applications/reject", html`<input type="hidden" name="id" value="${a.id}">${field(`Reason for rejecting ${a.userName}`, "reason")}<button type="submit" class="danger">Reject</button>`, { inline: true })}`
                : "waiting for the applicant to confirm"
            }</td></tr>`,
          ),
          { empty: "No applications are waiting." },
        );
      }),
    admin,
  );
  userPost(
    app,
    "/admin/applications/approve",
    async (c, u, web) => {
      const id = one(await formOf(c), "id");
      return act(c, d, "/admin/applications", async () => {
        await d.accounts.approve(u, id, web.address);
        return "Approved: the applicant was mailed a confirmation link";
      });
    },
    admin,
  );
  userPost(
    app,
    "/admin/applications/reject",
    async (c, u, web) => {
      const f = await formOf(c);
      return act(c, d, "/admin/applications", async () => {
        await d.accounts.reject(u, one(f, "id"), one(f, "reason"), web.address);
        return "Rejected: the applicant was told";
      });
    },
    admin,
  );

  userGet(
    app,
    "/admin/clusters",
    (c, _u, web) => {
      web.view.scripts = ["capacity-chart.js"];
      return render(c, d, "Clusters and capacity", async () => {
        const h = await health(d, web);
        const types = d.vmTypes.list();
        const capacity = await Promise.all(
          d.clusters().map(async (cl) => {
            let resources: Array<{ name: string; available: number; max: number }> = [];
            try {
              resources = (await cl.client.describeResources({ vmTypes: types }, web.ctx)).resources;
            } catch {
              resources = [];
            }
            return {
              zone: cl.name,
              types: types.map((t) => ({
                name: t.name,
                free: resources.find((r) => r.name === t.name)?.available ?? 0,
                max: resources.find((r) => r.name === t.name)?.max ?? 0,
              })),
            };
          }),
        );
        return html`${h.nodes.map(
          (z) => html`<section aria-labelledby="z-${z.zone}"><h2 id="z-${z.zone}">Zone ${z.zone}</h2>
${"error" in z && z.error ? html`<p class="flash error" role="alert">The cluster does not answer: ${z.error}</p>` : ""}
${table(
  `Nodes of ${z.zone}`,
  [
    "Node",
    "State",
    "Last contact",
    "Hypervisor",
    "Cores free / max",
    "Memory free / max (MB)",
    "Disk free / max (GB)",
    "Instances",
  ],
  z.nodes.map(
    (
      n,
    ) => html`<tr><th scope="row">${n.name}</th><td>${n.state}${n.unknown.length ? ` (${n.unknown.length} unknown guest${n.unknown.length > 1 ? "s" : ""})` : ""}</td><td>${n.lastContact ?? "never"}</td>
<td>${n.resource?.hypervisor ?? ""}</td><td>${n.resource ? `${n.resource.numberOfCoresAvailable} / ${n.resource.numberOfCoresMax}` : ""}</td><td>${n.resource ? `${n.resource.memorySizeAvailable} / ${n.resource.memorySizeMax}` : ""}</td>
<td>${n.resource ? `${n.resource.diskSizeAvailable} / ${n.resource.diskSizeMax}` : ""}</td><td>${n.instances}</td></tr>`,
  ),
  { empty: "No nodes." },
)}
<figure class="chart"><canvas data-zone="${z.zone}" role="img" aria-label="Free and maximum instances per VM type in ${z.zone}; the table below holds the figures"></canvas>
<figcaption>Capacity of ${z.zone}: instances of each type that still fit (free) and that fit an empty cluster (max).</figcaption></figure>
${table(
  `Capacity of ${z.zone}`,
  ["VM type", "Free", "Max"],
  (capacity.find((x) => x.zone === z.zone)?.types ?? []).map(
    (t) =>
      html`<tr><th scope="row">${t.name}</th><td data-type="${t.name}" data-f="free">${t.free}</td><td data-type="${t.name}" data-f="max">${t.max}</td></tr>`,
  ),
)}
</section>`,
        )}
<script type="application/json" id="capacity-data">${jsonBlock({ zones: capacity })}</script>`;
      });
    },
    admin,
  );

  userGet(
    app,
    "/admin/vm-types",
    (c, _u, web) =>
      render(
        c,
        d,
        "VM types",
        () => html`
${table(
  "VM types",
  ["Name", "CPUs", "Memory (MB)", "Disk (GB)", ""],
  d.vmTypes.list().map(
    (t) => html`<tr><th scope="row">${t.name}</th><td colspan="4">
${form(
  web.view,
  "/admin/vm-types",
  html`<input type="hidden" name="name" value="${t.name}">
${field(`CPUs of ${t.name}`, "cpus", { type: "number", min: 1, value: String(t.cpus), required: true })}
${field(`Memory of ${t.name} (MB)`, "memoryMb", { type: "number", min: 1, value: String(t.memoryMb), required: true })}
${field(`Disk of ${t.name} (GB)`, "diskGb", { type: "number", min: 1, value: String(t.diskGb), required: true })}
<button type="submit">Save ${t.name}</button>`,
  { label: `Change ${t.name}` },
)}</td></tr>`,
  ),
)}
${form(
  web.view,
  "/admin/vm-types",
  html`<fieldset><legend>Add a VM type</legend>${field("Name", "name", { required: true })}${field("CPUs", "cpus", { type: "number", min: 1, required: true })}
${field("Memory (MB)", "memoryMb", { type: "number", min: 1, required: true })}${field("Disk (GB)", "diskGb", { type: "number", min: 1, required: true })}<button type="submit">Add</button></fieldset>`,
)}`,
      ),
    admin,
  );
  userPost(
    app,
    "/admin/vm-types",
    async (c, u, web) => {
      const f = await formOf(c);
      return act(c, d, "/admin/vm-types", () => {
        const int = (name: string) => (/^\d{1,9}$/.test(one(f, name)) ? Number(one(f, name)) : NaN);
        const t = d.vmTypes.set({
          name: one(f, "name").trim(),
          cpus: int("cpus"),
          memoryMb: int("memoryMb"),
          diskGb: int("diskGb"),
        });
        d.audit.record({
          actor: u.userName,
          action: "set-vm-type",
          target: t.name,
          detail: `${t.cpus} CPU, ${t.memoryMb} MB, ${t.diskGb} GB`,
          address: web.address,
        });
        return `Saved ${t.name}: ${t.cpus} CPU, ${t.memoryMb} MB, ${t.diskGb} GB`;
      });
    },
    admin,
  );

  userGet(
    app,
    "/admin/settings",
    (c, _u, web) =>
      render(c, d, "Cloud settings", () => {
        const rows = d.settings.list();
        return html`<p>Changes are checked as the command line checks them and kept in the configuration file. Those marked <em>now</em> are in force at once; the others from the next start.</p>
${table(
  "Settings",
  ["Setting", "Value", "From", "A change applies", "What it does"],
  rows.map(
    (r) => html`<tr><th scope="row"><code>${r.file}</code></th><td>
${r.editable ? form(web.view, "/admin/settings", html`<input type="hidden" name="key" value="${r.key}">${field(`Value of ${r.file}`, "value", { value: r.value })}<button type="submit">Save</button>`, { inline: true }) : html`<code>${r.value}</code>`}
</td><td>${r.source}</td><td>${r.editable ? (r.live ? "now" : "at the next start") : ""}</td><td>${r.help}</td></tr>`,
  ),
)}`;
      }),
    admin,
  );
  userPost(
    app,
    "/admin/settings",
    async (c, u, web) => {
      const f = await formOf(c);
      return act(c, d, "/admin/settings", () => {
        const when = d.settings.set(one(f, "key"), one(f, "value").trim());
        d.audit.record({
          actor: u.userName,
          action: "set-setting",
          target: one(f, "key"),
          detail: one(f, "value").trim().slice(0, 200),
          address: web.address,
        });
        return when === "now"
          ? `Saved ${one(f, "key")}; it is in force now`
          : `Saved ${one(f, "key")}; it applies from the next start`;
      });
    },
    admin,
  );

  userGet(
    app,
    "/admin/audit",
    (c) =>
      render(c, d, "Audit log", () => {
        const before = /^\d+$/.test(c.req.query("before") ?? "") ? Number(c.req.query("before")) : undefined;
        const rows = d.audit.recent(200, before);
        const last = rows.at(-1);
        return html`${table(
          "Audit log",
          ["When", "Who", "What", "Target", "Detail", "From"],
          rows.map(
            (e) =>
              html`<tr><td>${when(e.at)}</td><td>${clip(e.actor)}</td><td>${clip(e.action)}</td><td>${clip(e.target)}</td><td>${clip(e.detail)}</td><td>${clip(e.address)}</td></tr>`,
          ),
        )}
${rows.length === 200 && last ? html`<p><a href="/admin/audit?before=${last.id}">Older</a></p>` : ""}`;
      }),
    admin,
  );

  userGet(
    app,
    "/admin/outbox",
    (c) =>
      render(
        c,
        d,
        "Outbox",
        () => html`<p>Every message the cloud sent or, without <code>SMTP_URL</code>, would have sent.</p>
${d.mail.outbox().map((m) => html`<article class="card" aria-label="Mail to ${m.to}: ${m.subject}"><h2>${m.subject}</h2><p>To ${m.to} · ${when(m.at)} · ${m.sent ? "sent" : "not sent"}</p>${textarea(`Message to ${m.to}`, `m${m.id}`, { value: m.body, readonly: true, rows: 6 })}</article>`)}`,
      ),
    admin,
  );
}
