/**
 * EBS: volumes (create, attach to a running instance, detach, delete) and snapshots
 * (take, delete, make a volume from one), each a list of one's own and the actions the
 * API offers on it, through the same services as the EC2 actions.
 */
import { html } from "hono/html";
import { button, field, form, select, table, when } from "../layout";
import { act, formOf, one, render, userGet, userPost } from "../routing";
import { callerOf, type WebApp, type WebDeps } from "../context";
import { InvalidParameterError } from "../../../common/errors";

export function volumeRoutes(app: WebApp, d: WebDeps): void {
  const s = d.services;
  userGet(app, "/volumes", (c, u, web) =>
    render(c, d, "Volumes", async () => {
      const vols = (await s.volumes.describe(callerOf(u), [], web.ctx)).filter((v) => v.state !== "deleted");
      const zones = await s.zones.describe([], web.ctx);
      const instances = (await s.instances.describe(callerOf(u), [], web.ctx)).filter((i) => i.state === "running");
      const snaps = (
        await s.snapshots.describe(callerOf(u), { ids: [], owners: [], restorableBy: [] }, web.ctx)
      ).filter((x) => x.state === "completed");
      return html`${table(
        "Your volumes",
        ["Volume", "Size", "Zone", "State", "Attached to", "From snapshot", "Actions"],
        vols.map(
          (v) => html`<tr><th scope="row">${v.id}</th><td>${v.sizeGiB} GiB</td><td>${v.zone}</td><td>${v.state}</td>
<td>${v.instanceId ? `${v.instanceId} (/dev/${v.device}, ${v.attachState})` : ""}</td><td>${v.snapshotId ?? ""}</td><td>
${
  v.instanceId
    ? button(web.view, "/volumes/detach", "Detach", { id: v.id }, { describedBy: v.id })
    : v.state === "available" && instances.some((i) => i.zone === v.zone)
      ? form(
          web.view,
          "/volumes/attach",
          html`<input type="hidden" name="id" value="${v.id}">${select(
            `Instance for ${v.id}`,
            "instanceId",
            instances.filter((i) => i.zone === v.zone).map((i) => ({ value: i.id, label: i.id })),
          )}
${field(`Device for ${v.id}`, "device", { value: "/dev/vdb" })}<button type="submit">Attach</button>`,
          { inline: true },
        )
      : ""
}
${v.state === "available" || v.state === "in-use" ? button(web.view, "/snapshots/create", "Snapshot", { volumeId: v.id }, { describedBy: v.id }) : ""}
${v.state === "available" || v.state === "error" ? button(web.view, "/volumes/delete", "Delete", { id: v.id }, { danger: true, describedBy: v.id }) : ""}</td></tr>`,
        ),
        { empty: "You have no volumes." },
      )}
${
  zones.length
    ? form(
        web.view,
        "/volumes/create",
        html`<fieldset><legend>Create a volume</legend>
${field("Size (GiB)", "size", { type: "number", min: 1, max: d.limits.maxVolumeGb, hint: `at most ${d.limits.maxVolumeGb} GiB; empty with a snapshot: the snapshot's size` })}
${select(
  "Zone",
  "zone",
  zones.map((z) => ({ value: z.zoneName, label: z.zoneName })),
)}
${select("From snapshot", "snapshotId", [{ value: "", label: "none (empty volume)" }, ...snaps.map((x) => ({ value: x.id, label: `${x.id} (${x.sizeGiB} GiB) ${x.description}` }))])}
<button type="submit">Create</button></fieldset>`,
      )
    : ""
}`;
    }),
  );
  userPost(app, "/volumes/create", async (c, u, web) => {
    const f = await formOf(c);
    return act(c, d, "/volumes", async () => {
      const size = one(f, "size").trim();
      if (size !== "" && !/^\d{1,6}$/.test(size))
        throw new InvalidParameterError("Size", `'${size}' is not a size in GiB`);
      const v = await s.volumes.create(
        callerOf(u),
        {
          sizeGiB: size === "" ? undefined : Number(size),
          zone: one(f, "zone"),
          snapshotId: one(f, "snapshotId") || undefined,
        },
        web.ctx,
      );
      return `Creating ${v.id}`;
    });
  });
  userPost(app, "/volumes/delete", async (c, u, web) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/volumes", async () => {
      await s.volumes.delete(callerOf(u), id, web.ctx);
      return `Deleting ${id}`;
    });
  });
  userPost(app, "/volumes/attach", async (c, u, web) => {
    const f = await formOf(c);
    return act(c, d, "/volumes", async () => {
      const v = await s.volumes.attach(
        callerOf(u),
        { volumeId: one(f, "id"), instanceId: one(f, "instanceId"), device: one(f, "device") },
        web.ctx,
      );
      return `${v.id} is attached to ${v.instanceId}`;
    });
  });
  userPost(app, "/volumes/detach", async (c, u, web) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/volumes", async () => {
      await s.volumes.detach(callerOf(u), { volumeId: id }, web.ctx);
      return `${id} was detached`;
    });
  });

  userGet(app, "/snapshots", (c, u, web) =>
    render(c, d, "Snapshots", async () => {
      const rows = await s.snapshots.describe(callerOf(u), { ids: [], owners: ["self"], restorableBy: [] }, web.ctx);
      return table(
        "Your snapshots",
        ["Snapshot", "Volume", "Size", "State", "Progress", "Started", "Description", ""],
        rows.map(
          (x) => html`<tr><th scope="row">${x.id}</th><td>${x.volumeId}</td><td>${x.sizeGiB} GiB</td>
<td>${x.state}</td><td>${x.progress}%</td><td>${when(x.startedAt)}</td><td>${x.description}</td><td>${button(web.view, "/snapshots/delete", "Delete", { id: x.id }, { danger: true, describedBy: x.id })}</td></tr>`,
        ),
        { empty: "You have no snapshots. Take one from the Volumes page." },
      );
    }),
  );
  userPost(app, "/snapshots/create", async (c, u, web) => {
    const f = await formOf(c);
    return act(
      c,
      d,
      "/snapshots",
      async () =>
        `Taking ${(await s.snapshots.create(callerOf(u), { volumeId: one(f, "volumeId"), description: one(f, "description") || undefined }, web.ctx)).id}`,
    );
  });
  userPost(app, "/snapshots/delete", async (c, u, web) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/snapshots", async () => {
      await s.snapshots.delete(callerOf(u), id, web.ctx);
      return `Deleted ${id}`;
    });
  });
}
