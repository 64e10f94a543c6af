/** POST Object: a browser form upload (multipart/form-data) authorized by a signed policy. */
import busboy from "busboy";
import type { Readable } from "node:stream";
import type { S3Context } from "../context";
import { verifyPostPolicy } from "../post-policy";
import { emptyResponse, xmlResponse } from "../responses";
import { S3Error } from "../s3-error";
import { parseTagging } from "./tagging";
import type { ObjectMeta } from "../../../roles/walrus/records";
import type { Requester } from "../../../roles/walrus/acl";

const MAX_FIELDS_BYTES = 64 * 1024;

interface FormFile {
  fields: Map<string, string>;
  file: Readable;
  filename: string;
}

/** Reads form fields up to the file part (S3 ignores fields after it). */
function readForm(raw: Readable, header: (n: string) => string | undefined): Promise<FormFile> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { "content-type": header("content-type") ?? "" },
        limits: { fieldSize: MAX_FIELDS_BYTES, fields: 100, files: 1 },
      });
    } catch {
      return reject(
        new S3Error("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."),
      );
    }
    const fields = new Map<string, string>();
    let done = false;
    bb.on("field", (name, value) => {
      if (!done) fields.set(name.toLowerCase(), value);
    });
    bb.on("file", (name, file, info) => {
      if (done || name.toLowerCase() !== "file") return file.resume();
      done = true;
      resolve({ fields, file, filename: info.filename ?? "" });
    });
    bb.on("error", () =>
      reject(
        new S3Error("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."),
      ),
    );
    bb.on("close", () => {
      if (!done)
        reject(
          new S3Error("InvalidArgument", "POST requires exactly one file upload per request.", {
            ArgumentName: "file",
          }),
        );
    });
    raw.pipe(bb);
  });
}

/** An absolute http(s) URL, or undefined for anything else. */
function redirectUrl(v: string | undefined): URL | undefined {
  if (!v) return undefined;
  try {
    const u = new URL(v);
    return u.protocol === "http:" || u.protocol === "https:" ? u : undefined;
  } catch {
    return undefined;
  }
}

export async function postObject(
  ctx: S3Context,
  bucket: string,
  raw: Readable,
  lookup: {
    lookupSecret(id: string): string | undefined;
    /** Who signed with the key: undefined for session credentials without their (right, unexpired) token. */
    requesterOf(accessKeyId: string, sessionToken: string | undefined): Requester | undefined;
    now: Date;
  },
): Promise<Response> {
  const { fields, file, filename } = await readForm(raw, ctx.header);
  const keyTemplate = fields.get("key");
  if (!keyTemplate)
    throw new S3Error("InvalidArgument", "Bucket POST must contain a field named 'key'.", { ArgumentName: "key" });
  const key = keyTemplate.replace(/\$\{filename\}/g, filename);
  const policy = verifyPostPolicy(fields, bucket, lookup.now, lookup.lookupSecret);
  let requester: Requester | null = null;
  if (policy.accessKeyId !== undefined) {
    requester = lookup.requesterOf(policy.accessKeyId, policy.sessionToken) ?? null;
    if (!requester) {
      throw new S3Error(
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records, or its session token is missing, wrong or expired.",
      );
    }
  }
  // Decided before the object is stored: S3 acts as if a redirect it cannot read were not there.
  const redirect = redirectUrl(fields.get("success_action_redirect") ?? fields.get("redirect"));
  const meta: ObjectMeta = { user: {} };
  const standard: Array<[keyof Omit<ObjectMeta, "user">, string]> = [
    ["contentType", "content-type"],
    ["cacheControl", "cache-control"],
    ["contentDisposition", "content-disposition"],
    ["contentEncoding", "content-encoding"],
    ["expires", "expires"],
  ];
  for (const [f, name] of standard) if (fields.has(name)) meta[f] = fields.get(name)!;
  for (const [name, v] of fields) if (name.startsWith("x-amz-meta-")) meta.user[name.slice(11)] = v;
  const acl = fields.get("acl");
  let r;
  try {
    // The form's tagging field is a <Tagging> document, as S3's POST takes it.
    const tagging = fields.get("tagging");
    const tags = tagging !== undefined ? parseTagging(tagging) : undefined;
    r = await ctx.walrus.putObject(requester, bucket, key, file, {
      meta,
      acl: acl ? { canned: acl } : undefined,
      sizeRange: policy.sizeRange,
      tags,
    });
  } finally {
    file.resume();
  }
  if (redirect) {
    const u = redirect;
    u.searchParams.set("bucket", bucket);
    u.searchParams.set("key", key);
    u.searchParams.set("etag", r.etag);
    return emptyResponse(303, { location: u.toString(), etag: r.etag });
  }
  const status = fields.get("success_action_status");
  if (status === "201") {
    return xmlResponse(
      "PostResponse",
      { Location: `/${bucket}/${encodeURIComponent(key)}`, Bucket: bucket, Key: key, ETag: r.etag },
      { etag: r.etag },
      201,
    );
  }
  return emptyResponse(status === "200" ? 200 : 204, { etag: r.etag });
}
