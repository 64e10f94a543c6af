/**
 * Credentials: the zip Eucalyptus' web interface handed out (eucarc, cloud-cert.pem, a
 * new X.509 key pair and certificate per download) plus AWS profile files, and the
 * user's access keys (at most two, as IAM): create (the secret shown once), deactivate,
 * activate, delete.
 */
import { html } from "hono/html";
import { credentialsZip, zipName } from "../../../roles/clc/identity/credentials-zip";
import { IncorrectStateError } from "../../../common/errors";
import { MAX_KEYS_PER_USER } from "../../../roles/clc/identity/iam";
import { button, form, table, when } from "../layout";
import { act, formOf, one, render, userGet, userPost } from "../routing";
import { principalOf, type WebApp, type WebDeps } from "../context";

export function credentialRoutes(app: WebApp, d: WebDeps): void {
  userGet(app, "/credentials", (c, u, web) =>
    render(c, d, "Credentials", () => {
      const keys = d.iam.listAccessKeys(principalOf(u));
      const e = d.endpoints();
      return html`<section aria-labelledby="zip"><h2 id="zip">Credentials zip</h2>
<p>The zip holds <code>eucarc</code> (source it: <code>source eucarc</code>), the cloud's certificate, a new X.509 key pair and certificate for bundling images (each download makes a new pair), and <code>aws-credentials</code> / <code>aws-config</code> for the AWS CLI and SDKs.</p>
${form(web.view, "/credentials/zip", html`<button type="submit">Download credentials</button>`)}
<p>Endpoints: EC2 <code>${e.ec2Url}</code>, S3 <code>${e.s3Url}</code>, region <code>${e.region}</code>.</p></section>
<section aria-labelledby="keys"><h2 id="keys">Access keys</h2>
${table(
  "Your access keys",
  ["Access key", "Status", "Created", ""],
  keys.map(
    (
      k,
    ) => html`<tr><th scope="row"><code>${k.accessKeyId}</code></th><td>${k.status}</td><td>${when(k.createDate)}</td><td>
${button(web.view, "/credentials/keys/status", k.status === "Active" ? "Deactivate" : "Activate", { id: k.accessKeyId, status: k.status === "Active" ? "Inactive" : "Active" }, { describedBy: k.accessKeyId })}
${k.status === "Inactive" ? button(web.view, "/credentials/keys/delete", "Delete", { id: k.accessKeyId }, { danger: true, describedBy: k.accessKeyId }) : ""}</td></tr>`,
  ),
  { empty: "You have no access keys." },
)}
${keys.length < MAX_KEYS_PER_USER ? form(web.view, "/credentials/keys/create", html`<button type="submit">Create an access key</button>`) : html`<p>You have ${MAX_KEYS_PER_USER} keys, the most a user may hold: delete one to make another.</p>`}
<p><small>Only an inactive key can be deleted: deactivate it first, and check nothing still uses it.</small></p></section>`;
    }),
  );

  userPost(app, "/credentials/zip", async (c, u, web) => {
    const files = await d.identity.issueCredentials(u.userName);
    const zip = await credentialsZip(files);
    d.audit.record({ actor: u.userName, action: "download-credentials", address: web.address });
    return c.body(new Uint8Array(zip), 200, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${zipName(u.userName)}"`,
      "cache-control": "no-store",
    });
  });

  userPost(app, "/credentials/keys/create", (c, u, web) =>
    render(c, d, "Access key created", () => {
      const k = d.iam.createAccessKey(principalOf(u));
      d.audit.record({ actor: u.userName, action: "create-access-key", target: k.accessKeyId, address: web.address });
      return html`<p class="flash ok" role="status">The access key ${k.accessKeyId} was created. Copy its secret now: it is shown only this once.</p>
<dl><dt>Access key</dt><dd><code>${k.accessKeyId}</code></dd><dt>Secret key</dt><dd><code>${k.secretAccessKey}</code></dd></dl>
<p><a href="/credentials">Back to credentials</a></p>`;
    }),
  );
  userPost(app, "/credentials/keys/status", async (c, u, web) => {
    const f = await formOf(c);
    return act(c, d, "/credentials", () => {
      d.iam.updateAccessKey(principalOf(u), one(f, "id"), one(f, "status"));
      d.audit.record({
        actor: u.userName,
        action: "set-access-key-status",
        target: one(f, "id"),
        detail: one(f, "status"),
        address: web.address,
      });
      return `${one(f, "id")} is ${one(f, "status")}`;
    });
  });
  userPost(app, "/credentials/keys/delete", async (c, u, web) => {
    const id = one(await formOf(c), "id");
    return act(c, d, "/credentials", () => {
      const k = d.iam.listAccessKeys(principalOf(u)).find((x) => x.accessKeyId === id);
      if (k?.status === "Active") throw new IncorrectStateError(`Deactivate ${id} before deleting it`);
      d.iam.deleteAccessKey(principalOf(u), id);
      d.audit.record({ actor: u.userName, action: "delete-access-key", target: id, address: web.address });
      return `Deleted ${id}`;
    });
  });
}
