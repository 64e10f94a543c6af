/**
 * EC2 response XML (reference/ec2-wire.md §3): root `<{Action}Response>` in the
 * namespace of the request's Version, `<requestId>` first, lists as `…Set` wrappers
 * of `<item>`, empty lists as `<xSet/>`, booleans `true`/`false`, ISO 8601 times.
 */
import { escapeXml } from "../../common/xml-escape";

/**
 * A response body: element names to values. Strings, numbers, booleans and Dates are
 * text; arrays are `<item>` lists; objects nest; null and undefined are left out.
 */
export type XmlObject = object;

const EUCALYPTUS_NAMESPACE = "http://msgs.eucalyptus.ucsb.edu";

/** A dated Version selects the EC2 namespace of that version; anything else Eucalyptus' own. */
export function namespaceFor(version: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(version) ? `http://ec2.amazonaws.com/doc/${version}/` : EUCALYPTUS_NAMESPACE;
}

const escape = escapeXml;

/**
 * Collects the document as it is written. Pieces are joined and encoded every few
 * thousand, so the many small strings die young (cheap for the collector) instead of
 * living until one 8 MiB join: a 10,000-instance DescribeInstances spent most of its
 * time in garbage collection before (bench/scale).
 */
class Writer {
  private pieces: string[] = [];
  private readonly chunks: Buffer[] = [];

  push(piece: string): void {
    if (this.pieces.push(piece) >= 4096) this.flush();
  }

  private flush(): void {
    this.chunks.push(Buffer.from(this.pieces.join(""), "utf8"));
    this.pieces = [];
  }

  finish(): Buffer {
    this.flush();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}

/** An element already written (by renderElement), put into a document as it is. */
export class RawXml {
  constructor(readonly xml: string) {}
}

/** One element as XML text, for caching (FragmentCache). */
export function renderElement(name: string, v: unknown): RawXml {
  const out = new Writer();
  element(out, name, v);
  return new RawXml(out.finish().toString("utf8"));
}

/**
 * Rendered elements kept between requests, each under an id and a version that names what
 * can change about it (an instance's state, reason, address, tags): a 10,000-instance listing
 * then writes only what changed. Bounded: past `max` entries it starts over.
 */
export class FragmentCache {
  private readonly entries = new Map<string, { version: string; xml: RawXml }>();

  constructor(private readonly max = 100_000) {}

  get(id: string, version: string, make: () => unknown, name = "item"): RawXml {
    const hit = this.entries.get(id);
    if (hit && hit.version === version) return hit.xml;
    if (this.entries.size >= this.max) this.entries.clear();
    const xml = renderElement(name, make());
    this.entries.set(id, { version, xml });
    return xml;
  }
}

/**
 * A list whose items are made as they are written (each one then garbage at once), for
 * listings with thousands of entries. The writer treats it like an array.
 */
export function lazyList<T, U>(items: readonly T[], make: (item: T) => U): Iterable<U> & { length: number } {
  return {
    length: items.length,
    *[Symbol.iterator]() {
      for (const i of items) yield make(i);
    },
  };
}

const isList = (v: object): v is Iterable<unknown> & { length: number } =>
  Array.isArray(v) || (Symbol.iterator in v && typeof (v as { length?: unknown }).length === "number");

/**
 * Writes one element. Hand-written rather than fast-xml-parser's builder, which spent 5×
 * longer on a 10,000-instance listing. Element names come from our own code, never from input.
 */
function element(out: Writer, name: string, v: unknown): void {
  if (v === null || v === undefined) return;
  if (v instanceof RawXml) {
    out.push(v.xml);
    return;
  }
  let text: string;
  if (v instanceof Date) text = v.toISOString();
  else if (typeof v === "object") {
    if (isList(v)) {
      if (v.length === 0) {
        out.push(`<${name}/>`);
        return;
      }
      out.push(`<${name}>`);
      for (const item of v) element(out, "item", item);
      out.push(`</${name}>`);
      return;
    }
    out.push(`<${name}>`);
    children(out, v);
    out.push(`</${name}>`);
    return;
  } else if (typeof v === "boolean") text = v ? "true" : "false";
  else text = String(v);
  out.push(text === "" ? `<${name}/>` : `<${name}>${escape(text)}</${name}>`);
}

function children(out: Writer, v: object): void {
  for (const k in v) element(out, k, (v as Record<string, unknown>)[k]);
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function renderResponse(action: string, version: string, requestId: string, body: XmlObject): Buffer {
  const root = `${action}Response`;
  const out = new Writer();
  out.push(`${DECLARATION}<${root} xmlns="${escape(namespaceFor(version))}">`);
  element(out, "requestId", requestId);
  children(out, body);
  out.push(`</${root}>`);
  return out.finish();
}

export function renderError(code: string, message: string, requestId: string): Buffer {
  const out = new Writer();
  out.push(DECLARATION);
  element(out, "Response", { Errors: { Error: { Code: code, Message: message } }, RequestID: requestId });
  return out.finish();
}
