/**
 * EC2 response XML (reference/ec2-wire.md §3): root `<{Action}Response>` in the
 * namespace of the request's Version, `<requestId>` first, lists as `…Set` wrappers
 * of `<item>`, empty lists as `<xSet/>`, booleans `true`/`false`, ISO 8601 times.
 */
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

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
const NEEDS_ESCAPE = /[&<>"']/;

function escape(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : text;
}

/**
 * Writes one element. Hand-written rather than fast-xml-parser's builder: a 10,000-instance
 * DescribeInstances is ~8 MiB of XML, and the builder spent 5× longer on it than this
 * direct walk (bench/scale). Element names come from our own code, never from input.
 */
function element(name: string, v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) {
    if (v.length === 0) return `<${name}/>`;
    let inner = "";
    for (const item of v) inner += element("item", item);
    return `<${name}>${inner}</${name}>`;
  }
  let text: string;
  if (v instanceof Date) text = v.toISOString();
  else if (typeof v === "object") return `<${name}>${children(v)}</${name}>`;
  else if (typeof v === "boolean") text = v ? "true" : "false";
  else text = String(v);
  return text === "" ? `<${name}/>` : `<${name}>${escape(text)}</${name}>`;
}

function children(v: object): string {
  let out = "";
  for (const k in v) out += element(k, (v as Record<string, unknown>)[k]);
  return out;
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function renderResponse(action: string, version: string, requestId: string, body: XmlObject): string {
  const root = `${action}Response`;
  return `${DECLARATION}<${root} xmlns="${escape(namespaceFor(version))}">${element("requestId", requestId)}${children(body)}</${root}>`;
}

export function renderError(code: string, message: string, requestId: string): string {
  return DECLARATION + element("Response", { Errors: { Error: { Code: code, Message: message } }, RequestID: requestId });
}
