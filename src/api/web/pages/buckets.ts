/**
 * Buckets and objects. Listing, creating and deleting go through the Walrus service as
 * the user; uploads go from the browser straight to Walrus with a form the server
 * signed (a POST policy for this bucket and prefix, valid for an hour), and downloads
 * through presigned URLs: object bytes never pass through the web server.
 */
import { html } from "hono/html";
import { presignGet, presignPost } from "../../../auth/presign";
import { UnavailableError } from "../../../common/errors";
import { button, bytes, field, form, table, when } from "../layout";
import { act, formOf, one, render, userGet, userPost } from "../routing";
import type { WebApp, WebContext, WebDeps } from "../context";
import type { SessionUser } from "../../../roles/clc/web/web-accounts";

const LINK_MS = 3600_000;
const PAGE = 500;

export function bucketRoutes(app: WebApp, d: WebDeps): void {
  const requester = (u: SessionUser) => ({ accountId: u.accountId, userName: u.userName, isAdmin: false });
  const walrus = () => {
    if (!d.walrus) throw new UnavailableError("Walrus runs on another host: use its S3 endpoint with your credentials");
    return d.walrus;
  };
  const signingKey = (u: SessionUser) => {
    const k = d.identity.signingKeyOf(u.userName);
    if (!k) throw new UnavailableError("You have no active access key: create or activate one on the Credentials page");
    return k;
  };
  /** Where the browser came from: the upload form sends it back here. */
  const origin = (c: WebContext) => new URL(c.req.url).origin;

  userGet(app, "/buckets", (c, u, web) =>
    render(c, d, "Buckets", () => {
      const rows = walrus().listBuckets(requester(u));
      return html`${table(
        "Your buckets",
        ["Bucket", "Created", ""],
        rows.map(
          (
            b,
          ) => html`<tr><th scope="row"><a href="/buckets/${encodeURIComponent(b.name)}">${b.name}</a></th><td>${when(b.createdAt)}</td>
<td>${button(web.view, "/buckets/delete", "Delete", { bucket: b.name }, { danger: true, describedBy: b.name })}</td></tr>`,
        ),
        { empty: "You have no buckets yet." },
      )}
${form(web.view, "/buckets/create", html`<fieldset><legend>Create a bucket</legend>${field("Name", "bucket", { required: true, hint: "3-63 lower-case letters, digits, '.' and '-'" })}<button type="submit">Create</button></fieldset>`)}`;
    }),
  );
  userPost(app, "/buckets/create", async (c, u) => {
    const name = one(await formOf(c), "bucket").trim();
    return act(c, d, "/buckets", () => `Created ${walrus().createBucket(requester(u), name, {}).name}`);
  });
  userPost(app, "/buckets/delete", async (c, u) => {
    const name = one(await formOf(c), "bucket");
    return act(c, d, "/buckets", () => {
      walrus().deleteBucket(requester(u), name);
      return `Deleted ${name}`;
    });
  });

  userGet(app, "/buckets/:bucket", (c, u, web) => {
    const bucket = c.req.param("bucket") ?? "";
    return render(c, d, `Bucket ${bucket}`, () => {
      const prefix = c.req.query("prefix") ?? "";
      const list = walrus().listObjects(requester(u), bucket, {
        prefix,
        delimiter: "/",
        maxKeys: PAGE,
        startAfter: c.req.query("after") || undefined,
      });
      const key = signingKey(u);
      const expires = new Date(d.clock.now().getTime() + LINK_MS);
      const s3Url = d.endpoints().s3Url;
      const here = `/buckets/${encodeURIComponent(bucket)}`;
      const upload = presignPost({
        bucket,
        keyPrefix: prefix,
        redirect: `${origin(c)}${here}/uploaded?prefix=${encodeURIComponent(prefix)}`,
        maxBytes: d.limits.maxBucketMb * 1024 * 1024,
        key,
        expires,
      });
      const up = prefix.includes("/") ? prefix.slice(0, prefix.slice(0, -1).lastIndexOf("/") + 1) : "";
      const uploaded = c.req.query("uploaded");
      return html`${uploaded !== undefined ? html`<p class="flash ok" role="status">Uploaded ${uploaded}</p>` : ""}
<p>Folder: <strong>/${prefix}</strong>${prefix ? html` · <a href="${here}?prefix=${encodeURIComponent(up)}">up one level</a>` : ""}</p>
${table(
  `Objects in ${bucket}`,
  ["Name", "Size", "Modified", ""],
  [
    ...list.commonPrefixes.map(
      (p) =>
        html`<tr><th scope="row"><a href="${here}?prefix=${encodeURIComponent(p)}">${p.slice(prefix.length)}</a></th><td>folder</td><td></td><td></td></tr>`,
    ),
    ...list.contents.map(
      (
        o,
      ) => html`<tr><th scope="row"><a href="${presignGet(s3Url, bucket, o.key, key, expires)}" download>${o.key.slice(prefix.length)}</a></th><td>${bytes(o.size)}</td><td>${when(o.lastModified)}</td>
<td>${button(web.view, `${here}/delete-object`, "Delete", { key: o.key, prefix }, { danger: true, describedBy: o.key })}</td></tr>`,
    ),
  ],
  { empty: "This folder is empty." },
)}
${list.isTruncated && list.lastReturned ? html`<p><a href="${here}?prefix=${encodeURIComponent(prefix)}&amp;after=${encodeURIComponent(list.lastReturned)}">More</a></p>` : ""}
<form method="post" action="${s3Url}/${bucket}" enctype="multipart/form-data" aria-label="Upload a file">
<fieldset><legend>Upload a file into /${prefix}</legend>
${Object.entries(upload).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<p class="field"><label for="upload-file">File</label><input id="upload-file" type="file" name="file" required></p>
<button type="submit">Upload</button></fieldset></form>
<p><small>Links and the upload form are signed for an hour with your access key ${key.accessKeyId}.</small></p>`;
    });
  });
  userGet(app, "/buckets/:bucket/uploaded", (c) => {
    // Walrus sends the browser back here (bucket, key and etag in the query).
    const bucket = c.req.param("bucket") ?? "";
    const q = new URLSearchParams({ prefix: c.req.query("prefix") ?? "", uploaded: c.req.query("key") ?? "" });
    return c.redirect(`/buckets/${encodeURIComponent(bucket)}?${q}`, 303);
  });
  userPost(app, "/buckets/:bucket/delete-object", async (c, u) => {
    const bucket = c.req.param("bucket") ?? "";
    const f = await formOf(c);
    return act(c, d, `/buckets/${encodeURIComponent(bucket)}?prefix=${encodeURIComponent(one(f, "prefix"))}`, () => {
      walrus().deleteObject(requester(u), bucket, one(f, "key"));
      return `Deleted ${one(f, "key")}`;
    });
  });
}
