/**
 * Images, key pairs, security groups (with a rules editor) and elastic addresses: each
 * a list of one's own and the actions the API offers on it, through
 * the same services (rule and address changes through the enforced changes the EC2
 * actions use, answered once the clusters enforce them).
 */
import { html } from "hono/html";
import { button, field, form, select, table, textarea, when } from "../layout";
import { act, formOf, one, render, userGet, userPost } from "../routing";
import { callerOf, type WebApp, type WebDeps } from "../context";
import type { PermissionInput, Rule } from "../../../roles/clc/compute/security-groups";
import { InvalidParameterError } from "../../../common/errors";

function ruleText(r: Rule, groupNames: Map<string, string>): string {
  const proto = r.protocol === "-1" ? "all" : r.protocol;
  const ports =
    r.protocol === "icmp"
      ? `type ${r.fromPort} code ${r.toPort}`
      : r.protocol === "-1"
        ? ""
        : r.fromPort === r.toPort
          ? `port ${r.fromPort}`
          : `ports ${r.fromPort}-${r.toPort}`;
  return `${proto} ${ports} from ${r.cidr || `group ${groupNames.get(r.sourceGroupId) ?? r.sourceGroupId}`}`.replace(
    /\s+/g,
    " ",
  );
}

/** The rules form's one permission: a CIDR or a group of the same account as the source. */
function permissionOf(f: Record<string, string | string[]>): PermissionInput {
  const protocol = one(f, "protocol");
  const num = (name: string) => {
    const v = one(f, name).trim();
    if (v === "") return undefined;
    if (!/^-?\d{1,5}$/.test(v)) throw new InvalidParameterError(name, `'${v}' is not a port number`);
    return Number(v);
  };
  const source = one(f, "source").trim();
  const byGroup = source !== "" && !/^[\d./]+$/.test(source);
  return {
    protocol,
    fromPort: num("fromPort"),
    toPort: num("toPort") ?? num("fromPort"),
    cidrs: byGroup ? [] : [source || "0.0.0.0/0"],
    groups: byGroup ? [{ groupName: source }] : [],
  };
}

export function computeRoutes(app: WebApp, d: WebDeps): void {
  const s = d.services;

  userGet(app, "/images", (c, u, web) =>
    render(c, d, "Images", () => {
      const rows = s.images.describe(callerOf(u), {});
      return html`${table(
        "Images you may run",
        ["Image", "Name", "Type", "Root device", "State", "Owner", "Public", "Registered", ""],
        rows.map(
          (i) => html`<tr><th scope="row">${i.id}</th><td>${i.name}</td><td>${i.type}</td>
<td>${i.type === "machine" ? i.rootDeviceType : ""}</td><td>${i.imageState}</td>
<td>${i.accountId === u.accountId ? "you" : i.accountId}</td><td>${i.isPublic ? "yes" : "no"}</td><td>${when(i.createdAt)}</td>
<td>${i.accountId === u.accountId ? button(web.view, "/images/deregister", "Deregister", { id: i.id }, { danger: true, describedBy: i.id }) : ""}</td></tr>`,
        ),
        { empty: "No images yet." },
      )}
<p>Instance-store images are bundled and uploaded with euca2ools or <code>euca image</code>, then registered;
EBS-backed ones are made with <code>euca image import --ebs</code> or from an instance
(its page's <em>Create image</em>) (docs/images.md).</p>`;
    }),
  );
  userPost(app, "/images/deregister", async (c, u) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/images", () => {
      s.images.deregister(callerOf(u), id);
      return `${id} was deregistered`;
    });
  });

  userGet(app, "/key-pairs", (c, u, web) =>
    render(c, d, "Key pairs", () => {
      const rows = s.keyPairs.describe({ accountId: u.accountId });
      return html`${table(
        "Your key pairs",
        ["Name", "Type", "Fingerprint", "Created", ""],
        rows.map(
          (
            k,
          ) => html`<tr><th scope="row">${k.name}</th><td>${k.keyType}</td><td><code>${k.fingerprint}</code></td><td>${when(k.createdAt)}</td>
<td>${button(web.view, "/key-pairs/delete", "Delete", { name: k.name }, { danger: true, describedBy: k.name })}</td></tr>`,
        ),
        { empty: "You have no key pairs yet." },
      )}
${form(
  web.view,
  "/key-pairs/create",
  html`<fieldset><legend>Create a key pair</legend>${field("Name", "name", { required: true })}
${select("Type", "type", [
  { value: "rsa", label: "RSA" },
  { value: "ed25519", label: "ED25519" },
])}<button type="submit">Create</button></fieldset>`,
)}
${form(
  web.view,
  "/key-pairs/import",
  html`<fieldset><legend>Import a public key</legend>${field("Name", "name", { required: true })}
${textarea("Public key (OpenSSH, e.g. the contents of ~/.ssh/id_ed25519.pub)", "material", { required: true })}<button type="submit">Import</button></fieldset>`,
)}`;
    }),
  );
  userPost(app, "/key-pairs/create", async (c, u) => {
    const f = await formOf(c);
    const type = one(f, "type") === "ed25519" ? "ed25519" : "rsa";
    // The private key is shown this once, on this page (never stored, never redirected through a cookie).
    return render(c, d, "Key pair created", () => {
      const k = s.keyPairs.create({ accountId: u.accountId }, one(f, "name"), type);
      return html`<p class="flash ok" role="status">The key pair ${k.name} was created. Save its private key now: it is shown only this once.</p>
${textarea(`Private key of ${k.name}`, "private", { value: k.material, rows: 12, readonly: true })}
<p><a href="/key-pairs">Back to key pairs</a></p>`;
    });
  });
  userPost(app, "/key-pairs/import", async (c, u) => {
    const f = await formOf(c);
    return act(
      c,
      d,
      "/key-pairs",
      () => `Imported ${s.keyPairs.import({ accountId: u.accountId }, one(f, "name"), one(f, "material").trim()).name}`,
    );
  });
  userPost(app, "/key-pairs/delete", async (c, u) => {
    const name = one(await formOf(c), "name");
    return act(c, d, "/key-pairs", () => {
      const id = s.keyPairs.delete({ accountId: u.accountId }, { name });
      if (id) s.tags.forget(id);
      return `Deleted ${name}`;
    });
  });

  userGet(app, "/security-groups", (c, u, web) =>
    render(c, d, "Security groups", () => {
      const groups = s.securityGroups.describe({ accountId: u.accountId });
      const names = new Map(groups.map((g) => [g.id, g.name]));
      return html`${groups.map(
        (
          g,
        ) => html`<section aria-labelledby="g-${g.id}"><h2 id="g-${g.id}">${g.name} <small>${g.id}</small></h2><p>${g.description}</p>
${table(
  `Rules of ${g.name}`,
  ["Allows", ""],
  g.rules.map(
    (r) =>
      html`<tr><td>${ruleText(r, names)}</td><td>${button(
        web.view,
        "/security-groups/revoke",
        "Revoke",
        {
          group: g.name,
          protocol: r.protocol,
          fromPort: String(r.fromPort),
          toPort: String(r.toPort),
          source: r.cidr || (names.get(r.sourceGroupId) ?? r.sourceGroupId),
        },
        { describedBy: ruleText(r, names) },
      )}</td></tr>`,
  ),
  { empty: "No rules: nothing may reach its instances." },
)}
${form(
  web.view,
  "/security-groups/authorize",
  html`<fieldset><legend>Allow into ${g.name}</legend><input type="hidden" name="group" value="${g.name}">
${select("Protocol", "protocol", [
  { value: "tcp", label: "TCP" },
  { value: "udp", label: "UDP" },
  { value: "icmp", label: "ICMP" },
  { value: "-1", label: "all" },
])}
${field("From port (ICMP: type)", "fromPort", { hint: "e.g. 22; -1 for every ICMP type" })}${field("To port (ICMP: code)", "toPort", { hint: "empty: the same as from" })}
${field("Source", "source", { value: "0.0.0.0/0", hint: "a CIDR such as 192.0.2.0/24, or the name of one of your groups" })}
<button type="submit">Allow</button></fieldset>`,
)}
${g.name === "default" ? "" : button(web.view, "/security-groups/delete", "Delete group", { group: g.name }, { danger: true, describedBy: g.name })}</section>`,
      )}
${form(web.view, "/security-groups/create", html`<fieldset><legend>Create a security group</legend>${field("Name", "name", { required: true })}${field("Description", "description", { required: true })}<button type="submit">Create</button></fieldset>`)}`;
    }),
  );
  userPost(app, "/security-groups/create", async (c, u) => {
    const f = await formOf(c);
    return act(
      c,
      d,
      "/security-groups",
      () =>
        `Created ${s.securityGroups.create({ accountId: u.accountId }, one(f, "name"), one(f, "description")).name}`,
    );
  });
  userPost(app, "/security-groups/delete", async (c, u, web) => {
    const name = one(await formOf(c), "group");
    return act(c, d, "/security-groups", async () => {
      await s.enforced.deleteGroup(u.accountId, { name }, web.ctx);
      return `Deleted ${name}`;
    });
  });
  for (const verb of ["authorize", "revoke"] as const) {
    userPost(app, `/security-groups/${verb}`, async (c, u, web) => {
      const f = await formOf(c);
      return act(c, d, "/security-groups", async () => {
        await s.enforced[verb](u.accountId, { name: one(f, "group") }, [permissionOf(f)], web.ctx);
        return verb === "authorize"
          ? `The rule is in force in ${one(f, "group")}`
          : `The rule was revoked from ${one(f, "group")}`;
      });
    });
  }

  userGet(app, "/addresses", (c, u, web) =>
    render(c, d, "Elastic addresses", async () => {
      const rows = s.addresses.list(u.accountId);
      const running = (await s.instances.describe(callerOf(u), [], web.ctx)).filter(
        (i) => i.state === "running" || i.state === "pending",
      );
      const choices = running.map((i) => ({ value: i.id, label: i.id }));
      return html`${table(
        "Your elastic addresses",
        ["Address", "Instance", ""],
        rows.map(
          (a) => html`<tr><th scope="row">${a.publicIp}</th><td>${a.instanceId ?? ""}</td><td>
${a.instanceId ? button(web.view, "/addresses/disassociate", "Disassociate", { ip: a.publicIp }, { describedBy: a.publicIp }) : choices.length ? form(web.view, "/addresses/associate", html`<input type="hidden" name="ip" value="${a.publicIp}">${select(`Instance for ${a.publicIp}`, "instanceId", choices)}<button type="submit">Associate</button>`, { inline: true }) : ""}
${button(web.view, "/addresses/release", "Release", { ip: a.publicIp }, { danger: true, describedBy: a.publicIp })}</td></tr>`,
        ),
        { empty: "You hold no elastic addresses." },
      )}
${s.addresses.enabled() ? button(web.view, "/addresses/allocate", "Allocate an address") : html`<p>This cloud has no elastic addresses to hand out (its administrator has set no public address pool, or its network mode has none).</p>`}`;
    }),
  );
  userPost(app, "/addresses/allocate", (c, u) =>
    act(c, d, "/addresses", () => `Allocated ${s.addresses.allocate(u.accountId, false).publicIp}`),
  );
  userPost(app, "/addresses/associate", async (c, u, web) => {
    const f = await formOf(c);
    return act(c, d, "/addresses", async () => {
      const a = await s.enforced.associateAddress(
        callerOf(u),
        { publicIp: one(f, "ip") },
        one(f, "instanceId"),
        web.ctx,
      );
      return `${a.publicIp} now reaches ${a.instanceId}`;
    });
  });
  for (const verb of ["disassociate", "release"] as const) {
    userPost(app, `/addresses/${verb}`, async (c, u, web) => {
      const ip = one(await formOf(c), "ip");
      return act(c, d, "/addresses", async () => {
        await (verb === "release"
          ? s.enforced.releaseAddress(callerOf(u), { publicIp: ip }, web.ctx)
          : s.enforced.disassociateAddress(callerOf(u), { publicIp: ip }, web.ctx));
        return verb === "release" ? `Released ${ip}` : `${ip} is no longer associated`;
      });
    });
  }
}
