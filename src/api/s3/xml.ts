/** S3 XML: typed bodies rendered with fast-xml-parser; request bodies read by the one XML reader (MalformedXML). */
import { XMLBuilder } from "fast-xml-parser";
import { readXml, XmlError, type XmlElement } from "../../common/xml-reader";
import { S3Error } from "./s3-error";

export const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

const XML10_FORBIDDEN = /[\u0001-\u0008\u000B\u000C\u000E-\u001F]/;
const XML11_REFERENCED = /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028]/g;
/** Whether `s` holds a character an XML 1.0 document cannot carry (then the reply is XML 1.1, which expat cannot read). */
export const needsXml11 = (s: string) => XML10_FORBIDDEN.test(s);
const ref = (ch: string) => `&#x${ch.charCodeAt(0).toString(16).toUpperCase()};`;

/**
 * Arrays repeat the element (S3 lists are flattened, unlike EC2's <item>). Text is
 * data (keys hold any character): a carriage return is written as a reference so it
 * is not read back as a line feed, and a document holding a control character that
 * XML 1.0 cannot carry is declared XML 1.1 with the character as a reference, as
 * S3 writes it (XML 1.0 parsers such as expat refuse it: clients ask encoding-type=url).
 */
export function renderXml(root: string, body: object, namespace = true): string {
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    suppressEmptyNode: false,
    format: false,
    processEntities: true,
  });
  const tree = { [root]: namespace ? { "@_xmlns": S3_NS, ...(normalize(body) as object) } : normalize(body) };
  let xml = (builder.build(tree) as string).replace(/\r/g, "&#13;");
  let version = "1.0";
  if (XML10_FORBIDDEN.test(xml)) {
    version = "1.1";
    xml = xml.replace(XML11_REFERENCED, ref);
  }
  return `<?xml version="${version}" encoding="UTF-8"?>\n${xml}`;
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

export function renderS3Error(
  code: string,
  message: string,
  requestId: string,
  resource: string,
  extra: Record<string, string>,
): string {
  return renderXml(
    "Error",
    { Code: code, Message: message, ...extra, Resource: resource, RequestId: requestId },
    false,
  );
}

/**
 * Parses a request body with the one XML reader (verbatim text, character references
 * decoded, DOCTYPE refused, depth and size bounded) and checks its root element.
 */
export function parseXmlBody(
  body: string,
  root: string,
  what: "MalformedXML" | "MalformedACLError" = "MalformedXML",
): XmlElement {
  let doc: XmlElement;
  try {
    doc = readXml(body, { controlCharacters: true });
  } catch (e) {
    if (!(e instanceof XmlError)) throw e;
    throw new S3Error(
      what,
      `The XML you provided was not well-formed or did not validate against our published schema (${e.message})`,
    );
  }
  if (doc.name !== root)
    throw new S3Error(
      what,
      `The XML you provided was not well-formed or did not validate against our published schema (expected <${root}>)`,
    );
  return doc;
}

/** Text of a child that must be present. */
export function requiredText(el: XmlElement, name: string, where: string): string {
  const v = el.children.find((c) => c.name === name)?.text;
  if (v === undefined)
    throw new S3Error(
      "MalformedXML",
      `The XML you provided was not well-formed or did not validate against our published schema (${where} needs <${name}>)`,
    );
  return v;
}
