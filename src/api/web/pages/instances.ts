/**
 * Instances: the list (kept current by server-sent events), running one from an image
 * with a type, key pair and groups, rebooting, stopping and starting (EBS-backed),
 * making an image of one, terminating, the console output.
 */
import { html } from "hono/html";
import { streamSSE } from "hono/streaming";
import { button, field, form, select, table, when } from "../layout";
import { act, formOf, many, one, render, userGet, userPost } from "../routing";
import { callerOf, type WebApp, type WebDeps } from "../context";
import { InvalidParameterError } from "../../../common/errors";
import type { InstanceRecord } from "../../../roles/clc/compute/instances";
import type { SessionUser } from "../../../roles/clc/web/web-accounts";

const EVENT_MS = 1000;
/** Event streams one session may hold open at once (each costs a query a second). */
const STREAMS_PER_SESSION = 4;
const MAX_COUNT = 20;

/** What may be done to an instance now: reboot and terminate; stop or start for an EBS-backed one. */
function actions(view: Parameters<typeof button>[0], r: InstanceRecord, inRow: boolean) {
  if (r.state === "terminated" || r.state === "shutting-down") return "";
  const o = (danger = false) => ({ danger, ...(inRow ? { describedBy: r.id } : {}) });
  const ebs = r.rootDeviceType === "ebs";
  return html`${r.state === "running" ? button(view, "/instances/reboot", "Reboot", { id: r.id }, o()) : ""}
${ebs && r.state === "running" ? button(view, "/instances/stop", "Stop", { id: r.id }, o()) : ""}
${ebs && r.state === "stopped" ? button(view, "/instances/start", "Start", { id: r.id }, o()) : ""}
${button(view, "/instances/terminate", "Terminate", { id: r.id }, o(true))}`;
}

export function instanceRoutes(app: WebApp, d: WebDeps): void {
  const streams = new Map<string, number>();
  const event = (r: InstanceRecord, publicIp: string | undefined) => ({
    id: r.id,
    state: r.state,
    type: r.instanceType,
    publicIp,
    privateIp: r.privateIp ?? undefined,
    zone: r.zone,
    image: r.imageId,
  });

  userGet(app, "/instances", (c, u: SessionUser, web) => {
    web.view.scripts = ["live-instances.js"];
    return render(c, d, "Instances", async () => {
      const caller = callerOf(u);
      const rows = await d.services.instances.describe(caller, [], web.ctx);
      const ips = d.services.addresses.publicIpsOf(rows.map((r) => r.id));
      const images = d.services.images.describe(caller, {}).filter((i) => i.type === "machine");
      const keys = d.services.keyPairs.describe({ accountId: u.accountId });
      const groups = d.services.securityGroups.describe({ accountId: u.accountId });
      const zones = await d.services.zones.describe([], web.ctx);
      const list = table(
        "Your instances",
        ["Instance", "State", "Type", "Public address", "Private address", "Zone", "Image", "Actions"],
        rows.map(
          (r) => html`
<tr data-id="${r.id}" data-state="${r.state}"><th scope="row" data-f="id"><a href="/instances/${r.id}">${r.id}</a></th><td data-f="state">${r.state}</td><td data-f="type">${r.instanceType}</td>
<td data-f="publicIp">${ips.get(r.id) ?? ""}</td><td data-f="privateIp">${r.privateIp ?? ""}</td><td data-f="zone">${r.zone}</td><td data-f="image">${r.imageId}</td>
<td>${actions(web.view, r, true)}</td></tr>`,
        ),
        { id: "instances", empty: "You run no instances yet." },
      );
      const run = images.length
        ? form(
            web.view,
            "/instances/run",
            html`<fieldset><legend>Run an instance</legend>
${select(
  "Image",
  "imageId",
  images.map((i) => ({ value: i.id, label: `${i.id} ${i.name}` })),
  { required: true },
)}
${select(
  "Type",
  "instanceType",
  d.vmTypes
    .list()
    .map((t) => ({ value: t.name, label: `${t.name} (${t.cpus} CPU, ${t.memoryMb} MB, ${t.diskGb} GB)` })),
  { value: "m1.small" },
)}
${select("Key pair", "keyName", [{ value: "", label: "none" }, ...keys.map((k) => ({ value: k.name, label: k.name }))])}
${select(
  "Security groups",
  "groups",
  groups.map((g) => ({ value: g.name, label: g.name })),
  { multiple: true },
)}
${select("Zone", "zone", [{ value: "", label: "any" }, ...zones.map((z) => ({ value: z.zoneName, label: z.zoneName }))])}
${field("How many", "count", { type: "number", value: "1", min: 1, max: MAX_COUNT, required: true })}
<button type="submit">Run</button></fieldset>`,
            { label: "Run an instance" },
          )
        : html`<p>There is no image you may run yet: bundle, upload and register one (docs/images.md).</p>`;
      // The table is always there, so the live script has rows to fill even when it starts empty.
      return html`<p id="live-status" class="visually-hidden" aria-live="polite"></p>
${rows.length ? list : html`${list}<div class="scroll"><table id="instances" hidden><caption>Your instances</caption><tbody></tbody></table></div>`}
${run}`;
    });
  });

  userPost(app, "/instances/run", async (c, u, web) => {
    const f = await formOf(c);
    return act(c, d, "/instances", async () => {
      const count = Number(one(f, "count") || "1");
      if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT)
        throw new InvalidParameterError("count", `Run between 1 and ${MAX_COUNT} instances at a time`);
      const rows = await d.services.instances.run(
        callerOf(u),
        {
          imageId: one(f, "imageId"),
          minCount: count,
          maxCount: count,
          instanceType: one(f, "instanceType") || undefined,
          keyName: one(f, "keyName") || undefined,
          groupNames: many(f, "groups"),
          groupIds: [],
          zone: one(f, "zone") || undefined,
        },
        web.ctx,
      );
      return `Started ${rows.map((r) => r.id).join(", ")}`;
    });
  });

  userPost(app, "/instances/terminate", async (c, u, web) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/instances", async () => {
      await d.services.instances.terminate(callerOf(u), [id], web.ctx);
      return `${id} is terminating`;
    });
  });

  userPost(app, "/instances/stop", async (c, u, web) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/instances", async () => {
      await d.services.instances.stop(callerOf(u), [id], false, web.ctx);
      return `${id} is stopping`;
    });
  });

  userPost(app, "/instances/start", async (c, u, web) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/instances", async () => {
      await d.services.instances.start(callerOf(u), [id], web.ctx);
      return `${id} is starting`;
    });
  });

  userPost(app, "/instances/create-image", async (c, u, web) => {
    const f = await formOf(c);
    const id = one(f, "id");
    return act(c, d, "/images", async () => {
      const { imageId } = await d.services.imageMaker.create(
        callerOf(u),
        { instanceId: id, name: one(f, "name"), noReboot: one(f, "noReboot") === "1" },
        web.ctx,
      );
      return `${imageId} is being made of ${id}`;
    });
  });

  userPost(app, "/instances/reboot", async (c, u, web) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/instances", async () => {
      await d.services.instances.reboot(callerOf(u), [id], web.ctx);
      return `${id} is rebooting`;
    });
  });

  userGet(app, "/instances/events", (c, u, web) => {
    const sid = web.sessionId!;
    if ((streams.get(sid) ?? 0) >= STREAMS_PER_SESSION) return c.text("Too many live views open: close a tab\n", 429);
    streams.set(sid, (streams.get(sid) ?? 0) + 1);
    return streamSSE(
      c,
      async (s) => {
        const sent = new Map<string, string>();
        let open = true;
        s.onAbort(() => {
          open = false;
        });
        try {
          while (open && !s.aborted) {
            // A session that ended (logout, timeout, user disabled) ends its stream.
            if (!d.accounts.session(sid)) {
              await s.writeSSE({ event: "end", data: "session ended" });
              break;
            }
            const rows = await d.services.instances.describe(callerOf(u), [], web.ctx);
            const ips = d.services.addresses.publicIpsOf(rows.map((r) => r.id));
            for (const r of rows) {
              const data = JSON.stringify(event(r, ips.get(r.id)));
              if (sent.get(r.id) !== data) {
                sent.set(r.id, data);
                await s.writeSSE({ event: "instance", data, id: `${r.id}-${r.state}` });
              }
            }
            await s.sleep(EVENT_MS);
          }
        } finally {
          const n = (streams.get(sid) ?? 1) - 1;
          if (n > 0) streams.set(sid, n);
          else streams.delete(sid);
        }
      },
      async (e, s) => {
        d.log.warn({ requestId: web.requestId, err: e.message }, "web: instance event stream ended");
        await s.writeSSE({ event: "end", data: "error" }).catch(() => undefined);
      },
    );
  });

  userGet(app, "/instances/:id", (c, u, web) =>
    render(c, d, `Instance ${c.req.param("id") ?? ""}`, async () => {
      const [r] = await d.services.instances.describe(callerOf(u), [c.req.param("id") ?? ""], web.ctx);
      const i = r!;
      const groups = d.services.instances
        .groupsOf(i)
        .map((g) => g.name)
        .join(", ");
      const volumes = d.services.volumes.attachedTo([i.id]).get(i.id) ?? [];
      let consoleText = "";
      if (i.state === "running") {
        try {
          consoleText = (await d.services.instances.consoleOutput(callerOf(u), i.id, web.ctx)).output;
        } catch (e) {
          consoleText = `(no console output: ${(e as Error).message})`;
        }
      }
      return html`<dl>
<dt>State</dt><dd>${i.state}${i.stateReason ? ` (${i.stateReason})` : ""}</dd>
<dt>Type</dt><dd>${i.instanceType}</dd><dt>Image</dt><dd>${i.imageId}</dd><dt>Zone</dt><dd>${i.zone}</dd>
<dt>Private address</dt><dd>${i.privateIp ?? ""}</dd><dt>Public address</dt><dd>${d.services.addresses.publicIpOf(i.id) ?? ""}</dd>
<dt>Key pair</dt><dd>${i.keyName ?? "none"}</dd><dt>Security groups</dt><dd>${groups}</dd><dt>Launched</dt><dd>${when(i.launchTime)}</dd>
<dt>Root device</dt><dd>${i.rootDeviceType}${i.rootDeviceName ? ` (${i.rootDeviceName})` : ""}</dd>
<dt>Volumes</dt><dd>${volumes.map((v) => `${v.id} on /dev/${v.device}`).join(", ") || "none"}</dd>
</dl>
<p>${actions(web.view, i, false)}</p>
${
  i.rootDeviceType === "ebs" && (i.state === "running" || i.state === "stopped")
    ? form(
        web.view,
        "/instances/create-image",
        html`<fieldset><legend>Create an image of it</legend><input type="hidden" name="id" value="${i.id}">
${field("Image name", "name", { required: true })}
<label><input type="checkbox" name="noReboot" value="1"> Without stopping it (its disks are held still while they are copied)</label>
<button type="submit">Create image</button></fieldset>`,
        { label: "Create an image" },
      )
    : ""
}
<h2 id="console">Console output</h2><pre tabindex="0" aria-labelledby="console">${consoleText || "(none yet)"}</pre>`;
    }),
  );
}
