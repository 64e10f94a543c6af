/** The landing page: what the user runs and stores against their limits; for an admin, every component's health and recent activity. */
import { html } from "hono/html";
import { table, when, type Markup } from "../layout";
import { render, userGet } from "../routing";
import { callerOf, type WebApp, type WebDeps, type WebRequest } from "../context";
import type { SessionUser } from "../../../roles/clc/web/web-accounts";

function meter(label: string, used: number, max: number | undefined, unit = ""): Markup {
  return html`<div class="card"><h2>${label}</h2>
<p>${used}${unit}${max !== undefined ? html` of ${max}${unit}` : ""}</p>
${max !== undefined && max > 0 ? html`<meter class="meter" min="0" max="${max}" value="${Math.min(used, max)}" aria-label="${label}: ${used} of ${max}">${used}/${max}</meter>` : ""}</div>`;
}

export async function health(d: WebDeps, web: WebRequest) {
  const zones = await d.services.zones.describe([], web.ctx);
  const nodes = await Promise.all(
    d.clusters().map(async (c) => {
      try {
        return { zone: c.name, nodes: (await c.client.describeNodes({}, web.ctx)).nodes };
      } catch (e) {
        return { zone: c.name, nodes: [], error: (e as Error).message };
      }
    }),
  );
  return { zones, nodes };
}

export function dashboardRoutes(app: WebApp, d: WebDeps): void {
  userGet(app, "/", (c, u: SessionUser, web) =>
    render(c, d, "Dashboard", async () => {
      const caller = callerOf(u);
      const instances = await d.services.instances.describe(caller, [], web.ctx);
      const live = instances.filter((i) => i.state !== "terminated");
      const volumes = (await d.services.volumes.describe(caller, [], web.ctx)).filter((v) => v.state !== "deleted");
      const addresses = d.services.addresses.list(u.accountId);
      const buckets = d.walrus
        ? d.walrus.listBuckets({ accountId: u.accountId, userName: u.userName, isAdmin: false })
        : undefined;
      const byState = new Map<string, number>();
      for (const i of live) byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
      const mine = html`<section aria-labelledby="mine"><h2 id="mine">Your cloud</h2><div class="cards">
${meter("Instances", live.length, undefined)}
${meter("Volumes", volumes.length, d.limits.maxVolumes)}
${meter(
  "Volume storage",
  volumes.reduce((n, v) => n + v.sizeGiB, 0),
  undefined,
  " GiB",
)}
${meter("Elastic addresses", addresses.length, d.limits.maxAddresses)}
${buckets ? meter("Buckets", buckets.length, d.limits.maxBuckets) : ""}
</div>
<p>${[...byState].map(([s, n]) => `${n} ${s}`).join(", ") || "Nothing running."} <a href="/instances">Instances</a></p></section>`;
      if (!u.isAdmin) return mine;
      const h = await health(d, web);
      const roles = d.roles();
      const recent = d.audit.recent(10);
      return html`${mine}
<section aria-labelledby="health"><h2 id="health">Health of the cloud</h2>
${table(
  "Roles in this process",
  ["Role", "State"],
  roles.map((r) => html`<tr><td>${r.role}</td><td>${r.ready ? "ready" : "starting"}</td></tr>`),
)}
${table(
  "Zones",
  ["Zone", "State", "Nodes up", "Nodes asleep", "Nodes suspect", "Nodes down or fenced"],
  h.zones.map((z) => {
    const n = h.nodes.find((x) => x.zone === z.zoneName)?.nodes ?? [];
    const count = (...states: string[]) => n.filter((x) => states.includes(x.state)).length;
    return html`<tr><td>${z.zoneName}</td><td>${z.zoneState}${z.messages.length ? ` (${z.messages.join("; ")})` : ""}</td><td>${count("up")}</td><td>${count("asleep")}</td><td>${count("suspect")}</td><td>${count("down", "fenced")}</td></tr>`;
  }),
  { empty: "No clusters are registered." },
)}
</section>
<section aria-labelledby="recent"><h2 id="recent">Recent activity</h2>
${table(
  "Recent activity",
  ["When", "Who", "What", "Target", "From"],
  recent.map(
    (e) =>
      html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.target}</td><td>${e.address}</td></tr>`,
  ),
)}
<p><a href="/admin/audit">The whole audit log</a></p></section>`;
    }),
  );
}
