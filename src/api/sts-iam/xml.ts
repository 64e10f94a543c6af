/**
 * The XML of the AWS Query services other than EC2 (STS, IAM): `<{Action}Response>` with
 * `<{Action}Result>` and `<ResponseMetadata>`, lists as `<member>` elements, maps as
 * `<entry><key/><value/></entry>`, errors as
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 */
import { escapeXml as escape } from "../../common/xml-escape";

function element(out: string[], name: string, v: unknown): void {
  if (v === undefined || v === null) return;
  if (v instanceof Map) {
    // IAM's maps (GetAccountSummary): <entry><key/><value/></entry>.
    out.push(`<${name}>`);
    for (const [k, x] of v) element(out, "entry", { key: k, value: x });
    out.push(`</${name}>`);
  } else if (Array.isArray(v)) {
    out.push(`<${name}>`);
    for (const m of v) element(out, "member", m);
    out.push(`</${name}>`);
  } else if (v instanceof Date) out.push(`<${name}>${v.toISOString()}</${name}>`);
  else if (typeof v === "object") {
    out.push(`<${name}>`);
    for (const [k, c] of Object.entries(v as object)) element(out, k, c);
    out.push(`</${name}>`);
  } else out.push(`<${name}>${escape(String(v))}</${name}>`);
}

export function renderQueryResponse(
  namespace: string,
  action: string,
  requestId: string,
  result: object | undefined,
): string {
  const out = [`<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${escape(namespace)}">`];
  if (result) element(out, `${action}Result`, result);
  element(out, "ResponseMetadata", { RequestId: requestId });
  out.push(`</${action}Response>`);
  return out.join("");
}

export function renderQueryError(
  namespace: string,
  code: string,
  message: string,
  requestId: string,
  sender: boolean,
): string {
  const out = [`<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${escape(namespace)}">`];
  element(out, "Error", { Type: sender ? "Sender" : "Receiver", Code: code, Message: message });
  element(out, "RequestId", requestId);
  out.push("</ErrorResponse>");
  return out.join("");
}
