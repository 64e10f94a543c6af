/**
 * The joining host's side of `euca join`: it fetches the cloud CA's certificate and
 * trusts it only when its SHA-256 is the token's, then sends the token, its address and
 * a certificate request (its key made here, kept here) over TLS to that CA alone, and
 * checks what comes back was issued by it.
 */
import { request } from "node:https";
import { issuedBy, makeKeyAndRequest, sha256Fingerprint } from "../auth/x509";
import type { JoinGrant, JoinToken } from "./join-token";

export class JoinRefusedError extends Error {}

function call(
  url: URL,
  o: { method: "GET" | "POST"; ca?: string; body?: string; timeoutMs: number },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method,
        // Before the CA is known nothing is sent but this GET; its answer is checked against the token.
        ...(o.ca ? { ca: o.ca } : { rejectUnauthorized: false }),
        headers: o.body ? { "content-type": "application/json", "content-length": Buffer.byteLength(o.body) } : {},
        timeout: o.timeoutMs,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
          if (text.length > 1024 * 1024) req.destroy(new Error("the answer is too large"));
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${o.timeoutMs / 1000} s`)));
    req.on("error", (e) => reject(new JoinRefusedError(`the cloud at ${url.origin} cannot be reached: ${e.message}`)));
    req.end(o.body);
  });
}

export async function requestJoin(
  token: JoinToken,
  o: { address: string; port: number; name: string; now: Date; timeoutMs?: number },
): Promise<{ keyPem: string; grant: JoinGrant }> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  if (token.expires.getTime() <= o.now.getTime())
    throw new JoinRefusedError("the join token has expired: ask the administrator for a new one");
  const base = new URL(token.url);
  const ca = await call(new URL("/join/ca", base), { method: "GET", timeoutMs });
  if (ca.status !== 200) throw new JoinRefusedError(`the cloud at ${base.origin} did not give its CA (${ca.status})`);
  let fingerprint: string;
  try {
    fingerprint = sha256Fingerprint(ca.text);
  } catch {
    throw new JoinRefusedError(`the cloud at ${base.origin} gave no certificate as its CA`);
  }
  if (fingerprint !== token.fingerprint)
    throw new JoinRefusedError(
      `the cloud at ${base.origin} is not the one the token names: its CA's fingerprint is ${fingerprint}, the token's ${token.fingerprint}`,
    );
  const { keyPem, csrPem } = await makeKeyAndRequest(o.name);
  const body = JSON.stringify({ id: token.id, secret: token.secret, csrPem, address: o.address, port: o.port });
  const r = await call(new URL("/join", base), { method: "POST", ca: ca.text, body, timeoutMs });
  let payload: { grant?: JoinGrant; error?: { message?: string } };
  try {
    payload = JSON.parse(r.text) as typeof payload;
  } catch {
    throw new JoinRefusedError(`the cloud answered ${r.status} without a join answer`);
  }
  if (r.status !== 200 || !payload.grant)
    throw new JoinRefusedError(
      `the cloud refused the join (${r.status}): ${payload.error?.message ?? "no reason given"}`,
    );
  const g = payload.grant;
  if (g.caPem.trim() !== ca.text.trim() || !issuedBy(g.certPem, ca.text))
    throw new JoinRefusedError("the certificate the cloud sent is not from its CA");
  return { keyPem, grant: g };
}
