/** S3 XML: typed bodies rendered with fast-xml-parser; request bodies parsed strictly (MalformedXML). */
import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";
import { S3Error } from "./s3-error";

export const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** Arrays repeat the element (S3 lists are flattened, unlike EC2's <item>). */
export function renderXml(root: string, body: object, namespace = true): string {
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", suppressEmptyNode: false, format: false, processEntities: true });
  const tree = { [root]: namespace ? { "@_xmlns": S3_NS, ...normalize(body) as object } : normalize(body) };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(tree)}`;
}

function normalize(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(normalize);
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(v as object)) {
    const n = normalize(child);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

export function renderS3Error(code: string, message: string, requestId: string, resource: string, extra: Record<string, string>): string {
  return renderXml("Error", { Code: code, Message: message, ...extra, Resource: resource, RequestId: requestId }, false);
}

/** Parses a request body; `arrays` names elements that may repeat. */
export function parseXmlBody(text: string, arrays: readonly string[], what: "MalformedXML" | "MalformedACLError" = "MalformedXML"): Record<string, unknown> {
  if (text.trim() === "" || XMLValidator.validate(text) !== true) {
    throw new S3Error(what, "The XML you provided was not well-formed or did not validate against our published schema");
  }
  const parser = new XMLParser({
    ignoreAttributes: false, attributeNamePrefix: "@_", removeNSPrefix: true, parseTagValue: false, trimValues: true,
    isArray: (name) => arrays.includes(name), processEntities: true,
  });
  return parser.parse(text) as Record<string, unknown>;
}

/** Reads `name` as text from a parsed element (absent → undefined). */
export function text(node: unknown, name: string): string | undefined {
  if (node === null || typeof node !== "object") return undefined;
  const v = (node as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && "#text" in v) return String((v as Record<string, unknown>)["#text"]);
  return "";
}
