/**
 * The one reader of XML that comes from users (S3 request bodies, bundle manifests):
 * a strict, non-validating parser (saxes, the well-formedness checker jsdom uses)
 * turned into a small element tree, with the rules that keep user data intact and
 * the process safe:
 * - text is kept verbatim: never trimmed, character references (`&#xA;`) and the
 *   five predefined entities decoded, CDATA kept as text;
 * - a DOCTYPE is refused (no DTD, no external or internal entities, no expansion);
 * - depth, element count and size are bounded, and nothing recurses, so 100,000
 *   nested elements are an error, not a stack overflow.
 * Element names lose their namespace prefix (`s3:Key` → `Key`); attributes keep
 * their qualified names (`xsi:type`).
 */
import { SaxesParser } from "saxes";

export class XmlError extends Error {}

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own text (not its children's), verbatim. */
  text: string;
}

export interface XmlLimits {
  maxBytes?: number;
  maxDepth?: number;
  maxElements?: number;
  /**
   * Accept control characters in text, raw or as references (S3 keys are data; the
   * SDKs and boto3 send them raw, XML 1.0 forbids them): the document is read as XML
   * 1.1 with every control character (a raw carriage return too), NEL and U+2028 taken
   * as a reference, so none is dropped or turned into a line end.
   */
  controlCharacters?: boolean;
}

const DEFAULTS: Required<XmlLimits> = {
  maxBytes: 8 * 1024 * 1024,
  maxDepth: 32,
  maxElements: 100_000,
  controlCharacters: false,
};
const CONTROLS = /[\u0001-\u0008\u000B-\u001F\u007F-\u009F\u2028]/g;

const localName = (qualified: string) => qualified.slice(qualified.indexOf(":") + 1);

/** Parses a whole document; throws XmlError for anything that is not well-formed or exceeds a limit. */
export function readXml(text: string, limits: XmlLimits = {}): XmlElement {
  const l = { ...DEFAULTS, ...limits };
  if (text.length > l.maxBytes || Buffer.byteLength(text, "utf8") > l.maxBytes)
    throw new XmlError(`The XML document is larger than ${l.maxBytes} bytes`);
  const parser = l.controlCharacters
    ? new SaxesParser({ position: false, defaultXMLVersion: "1.1", forceXMLVersion: true })
    : new SaxesParser({ position: false });
  if (l.controlCharacters) text = text.replace(CONTROLS, (ch) => `&#x${ch.charCodeAt(0).toString(16)};`);
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  let failure: Error | undefined;
  const fail = (message: string) => {
    failure ??= new XmlError(message);
    throw failure;
  };
  parser.on("doctype", () => fail("A DOCTYPE is not allowed"));
  parser.on("opentag", (tag) => {
    if (++count > l.maxElements) fail(`The XML document has more than ${l.maxElements} elements`);
    if (stack.length >= l.maxDepth) fail(`The XML document is nested deeper than ${l.maxDepth} elements`);
    const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(tag.attributes)) attributes[k] = typeof v === "string" ? v : v.value;
    const el: XmlElement = { name: localName(tag.name), attributes, children: [], text: "" };
    if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
    else root = el;
    stack.push(el);
  });
  const addText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on("text", addText);
  parser.on("cdata", addText);
  parser.on("closetag", () => void stack.pop());
  parser.on("error", (e) => fail(e.message));
  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof XmlError) throw e;
    throw new XmlError((e as Error).message);
  }
  if (failure) throw failure;
  if (!root) throw new XmlError("The XML document has no root element");
  return root;
}

/** The first child element called `name`. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** Every child element called `name`. */
export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** The verbatim text of the first child called `name` (absent → undefined; `<X/>` → ""). */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  return child(el, name)?.text;
}

/** An attribute by its local name (`type` finds `xsi:type`). */
export function attribute(el: XmlElement, name: string): string | undefined {
  for (const [k, v] of Object.entries(el.attributes)) if (localName(k) === name) return v;
  return undefined;
}
