/** Range and conditional-request rules for GET/HEAD and copy sources (RFC 7232/7233 as S3 applies them). */
import { S3Error } from "./s3-error";

export interface Versioned {
  etag: string;
  lastModified: Date;
  size: number;
}

const unquote = (s: string) => s.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
const etagIn = (list: string, etag: string) =>
  list.split(",").some((e) => e.trim() === "*" || unquote(e) === unquote(etag));
const parseDate = (s: string | undefined) => {
  if (s === undefined) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
};
/** HTTP dates have one-second precision. */
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** Returns 304 or 412 when a condition fails, else undefined. */
export function checkConditions(
  v: Versioned,
  h: { ifMatch?: string; ifNoneMatch?: string; ifModifiedSince?: string; ifUnmodifiedSince?: string },
): 304 | 412 | undefined {
  if (h.ifMatch !== undefined) {
    if (!etagIn(h.ifMatch, v.etag)) return 412;
  } else {
    const since = parseDate(h.ifUnmodifiedSince);
    if (since && seconds(v.lastModified) > seconds(since)) return 412;
  }
  if (h.ifNoneMatch !== undefined) {
    if (etagIn(h.ifNoneMatch, v.etag)) return 304;
  } else {
    const since = parseDate(h.ifModifiedSince);
    if (since && seconds(v.lastModified) <= seconds(since)) return 304;
  }
  return undefined;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`. Unparseable or multiple ranges → whole object (undefined). */
export function parseRange(
  header: string | undefined,
  size: number,
  what = "Range",
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let start: number, end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) throw rangeError(size, what);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return undefined; // invalid syntax: ignored, as S3 does
  }
  if (start >= size) throw rangeError(size, what);
  return { start, end };
}

function rangeError(size: number, what: string): S3Error {
  return new S3Error("InvalidRange", `The requested range is not satisfiable (${what})`, {
    ActualObjectSize: String(size),
  });
}
