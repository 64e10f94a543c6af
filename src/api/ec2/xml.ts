/**
 * EC2 response XML (reference/ec2-wire.md §3): root `<{Action}Response>` in the
 * namespace of the request's Version, `<requestId>` first, lists as `…Set` wrappers
 * of `<item>`, empty lists as `<xSet/>`, booleans `true`/`false`, ISO 8601 times.
 */
import { XMLBuilder } from "fast-xml-parser";

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

function toBuilderTree(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.length === 0 ? "" : { item: v.map(toBuilderTree) };
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return v;
  if (typeof v !== "object") return String(v);
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(v as object)) {
    const converted = toBuilderTree(child);
    if (converted !== undefined) out[k] = converted;
  }
  return out;
}

function builder(): XMLBuilder {
  return new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", suppressEmptyNode: true, format: false, processEntities: true });
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function renderResponse(action: string, version: string, requestId: string, body: XmlObject): string {
  const tree = { [`${action}Response`]: { "@_xmlns": namespaceFor(version), requestId, ...(toBuilderTree(body) as object) } };
  return DECLARATION + builder().build(tree);
}

export function renderError(code: string, message: string, requestId: string): string {
  const tree = { Response: { Errors: { Error: { Code: code, Message: message } }, RequestID: requestId } };
  return DECLARATION + builder().build(tree);
}
