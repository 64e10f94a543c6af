/**
 * The one line `euca admin cluster add` / `node add` print and `euca join` takes:
 * `euca1.<base64url JSON>` with the head's internal URL, the SHA-256 fingerprint of the
 * cloud CA (the joining host trusts only a server whose chain ends in it), the token's
 * id and one-time secret, and its expiry. The CLC keeps only the secret's hash.
 */
export interface JoinToken {
  /** The head's internal URL (https://head:8779). */
  url: string;
  /** SHA-256 of the cloud CA certificate's DER, lower-case hex. */
  fingerprint: string;
  id: string;
  secret: string;
  /** When it stops being accepted. */
  expires: Date;
  /** What joins with it: a cluster's CC and SC, or a node (the CLC's record decides; this says which port to offer). */
  kind: "cluster" | "node";
}

const PREFIX = "euca1.";

export function encodeJoinToken(t: JoinToken): string {
  const body = {
    u: t.url,
    f: t.fingerprint,
    i: t.id,
    s: t.secret,
    e: Math.floor(t.expires.getTime() / 1000),
    k: t.kind,
  };
  return PREFIX + Buffer.from(JSON.stringify(body)).toString("base64url");
}

export class JoinTokenError extends Error {}

export function decodeJoinToken(text: string): JoinToken {
  const s = text.trim();
  if (!s.startsWith(PREFIX)) throw new JoinTokenError("not a join token (it starts with 'euca1.')");
  let b: { u?: unknown; f?: unknown; i?: unknown; s?: unknown; e?: unknown; k?: unknown };
  try {
    b = JSON.parse(Buffer.from(s.slice(PREFIX.length), "base64url").toString("utf8")) as typeof b;
  } catch {
    throw new JoinTokenError("the join token is damaged (copy the whole line)");
  }
  if (
    typeof b.u !== "string" ||
    !/^https:\/\//.test(b.u) ||
    typeof b.f !== "string" ||
    !/^[0-9a-f]{64}$/.test(b.f) ||
    typeof b.i !== "string" ||
    !/^[A-Za-z0-9]{8,64}$/.test(b.i) ||
    typeof b.s !== "string" ||
    b.s.length < 16 ||
    typeof b.e !== "number" ||
    (b.k !== "cluster" && b.k !== "node")
  )
    throw new JoinTokenError("the join token is damaged (copy the whole line)");
  return { url: b.u, fingerprint: b.f, id: b.i, secret: b.s, expires: new Date(b.e * 1000), kind: b.k };
}

/** What the CLC grants a host that joined (the answer of `POST /join` on the head). */
export interface JoinGrant {
  kind: "cluster" | "node";
  cluster: string;
  node?: string;
  roles: string[];
  certPem: string;
  caPem: string;
  crlPem: string;
  /** The head's internal URL (Walrus, metadata, the revocation list). */
  url: string;
  /** The site's settings, as config-file keys and values. */
  settings: Record<string, string>;
}
