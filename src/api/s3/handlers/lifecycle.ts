/** Bucket lifecycle: Get/Put/DeleteBucketLifecycle(Configuration), S3's XML both ways. */
import type { LifecycleFilter, LifecycleRule, Tag } from "../../../roles/walrus/records";
import type { S3Context } from "../context";
import { child, children, childText, type XmlElement } from "../../../common/xml-reader";
import { checkedBytes } from "../body-digest";
import { emptyResponse, xmlResponse } from "../responses";
import { parseXmlBody, requiredText } from "../xml";
import { S3Error } from "../s3-error";

const malformed = (why: string) =>
  new S3Error(
    "MalformedXML",
    `The XML you provided was not well-formed or did not validate against our published schema (${why})`,
  );

function integer(el: XmlElement, name: string): number | undefined {
  const v = childText(el, name)?.trim();
  if (v === undefined) return undefined;
  if (!/^-?\d{1,12}$/.test(v)) throw malformed(`<${name}> must be an integer`);
  return Number(v);
}

const tagOf = (t: XmlElement): Tag => ({
  key: requiredText(t, "Key", "<Tag>"),
  value: requiredText(t, "Value", "<Tag>"),
});

function filterOf(rule: XmlElement): LifecycleFilter {
  const f = child(rule, "Filter");
  if (!f) {
    const legacy = childText(rule, "Prefix");
    if (legacy === undefined) throw malformed("a Rule needs a <Filter> or a <Prefix>");
    return { prefix: legacy };
  }
  const and = child(f, "And");
  const from = and ?? f;
  const tags = children(from, "Tag").map(tagOf);
  if (
    !and &&
    tags.length +
      (childText(f, "Prefix") !== undefined ? 1 : 0) +
      (child(f, "ObjectSizeGreaterThan") ? 1 : 0) +
      (child(f, "ObjectSizeLessThan") ? 1 : 0) >
      1
  ) {
    throw malformed("a <Filter> with more than one condition needs <And>");
  }
  return {
    prefix: childText(from, "Prefix") || undefined,
    tags: tags.length ? tags : undefined,
    sizeGreaterThan: integer(from, "ObjectSizeGreaterThan"),
    sizeLessThan: integer(from, "ObjectSizeLessThan"),
  };
}

export function parseLifecycle(text: string): LifecycleRule[] {
  return children(parseXmlBody(text, "LifecycleConfiguration"), "Rule").map((r) => {
    for (const unsupported of ["Transition", "NoncurrentVersionTransition"]) {
      if (child(r, unsupported))
        throw new S3Error(
          "NotImplemented",
          `Lifecycle ${unsupported} is not implemented: Walrus has one storage class`,
        );
    }
    const status = childText(r, "Status")?.trim();
    if (status !== "Enabled" && status !== "Disabled") throw malformed("<Status> must be Enabled or Disabled");
    const e = child(r, "Expiration");
    const n = child(r, "NoncurrentVersionExpiration");
    if (n && child(n, "NewerNoncurrentVersions"))
      throw new S3Error("NotImplemented", "NewerNoncurrentVersions is not implemented");
    const a = child(r, "AbortIncompleteMultipartUpload");
    const marker = e ? childText(e, "ExpiredObjectDeleteMarker")?.trim() : undefined;
    if (marker !== undefined && marker !== "true" && marker !== "false")
      throw malformed("<ExpiredObjectDeleteMarker> must be true or false");
    return {
      id: childText(r, "ID"),
      status,
      filter: filterOf(r),
      expiration: e
        ? {
            days: integer(e, "Days"),
            date: childText(e, "Date")?.trim(),
            expiredObjectDeleteMarker: marker === undefined ? undefined : marker === "true",
          }
        : undefined,
      noncurrentVersionExpiration: n ? { noncurrentDays: integer(n, "NoncurrentDays") ?? NaN } : undefined,
      abortIncompleteMultipartUpload: a ? { daysAfterInitiation: integer(a, "DaysAfterInitiation") ?? NaN } : undefined,
    };
  });
}

function renderFilter(f: LifecycleFilter): object {
  const parts = {
    Prefix: f.prefix,
    Tag: f.tags?.map((t) => ({ Key: t.key, Value: t.value })),
    ObjectSizeGreaterThan: f.sizeGreaterThan,
    ObjectSizeLessThan: f.sizeLessThan,
  };
  const count =
    [f.prefix, f.sizeGreaterThan, f.sizeLessThan].filter((x) => x !== undefined).length + (f.tags?.length ?? 0);
  if (count > 1) return { And: parts };
  return count === 0 ? { Prefix: "" } : parts;
}

export function getBucketLifecycle(ctx: S3Context, bucket: string): Response {
  const rules = ctx.walrus.getBucketLifecycle(ctx.requester, bucket);
  return xmlResponse("LifecycleConfiguration", {
    Rule: rules.map((r) => ({
      ID: r.id,
      Filter: renderFilter(r.filter),
      Status: r.status,
      Expiration: r.expiration && {
        Days: r.expiration.days,
        Date: r.expiration.date && new Date(r.expiration.date),
        ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker,
      },
      NoncurrentVersionExpiration: r.noncurrentVersionExpiration && {
        NoncurrentDays: r.noncurrentVersionExpiration.noncurrentDays,
      },
      AbortIncompleteMultipartUpload: r.abortIncompleteMultipartUpload && {
        DaysAfterInitiation: r.abortIncompleteMultipartUpload.daysAfterInitiation,
      },
    })),
  });
}

export async function putBucketLifecycle(ctx: S3Context, bucket: string): Promise<Response> {
  ctx.walrus.putBucketLifecycle(
    ctx.requester,
    bucket,
    parseLifecycle((await checkedBytes(ctx, 512 * 1024)).toString("utf8")),
  );
  return emptyResponse(200);
}

export function deleteBucketLifecycle(ctx: S3Context, bucket: string): Response {
  ctx.walrus.deleteBucketLifecycle(ctx.requester, bucket);
  return emptyResponse(204);
}
