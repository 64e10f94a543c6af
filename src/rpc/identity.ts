/**
 * Who a component is, as its host certificate says (subjectAltName URIs): `euca://clc`,
 * `euca://walrus`, `euca://cc/<cluster>`, `euca://sc/<cluster>`, `euca://nc/<cluster>/<node>`.
 * A host's certificate lists one per role it runs; each server accepts only the roles
 * that may call it (its `accepts` rule).
 */
export const COMPONENT_ROLES = ["clc", "walrus", "cc", "sc", "nc"] as const;
export type ComponentRole = (typeof COMPONENT_ROLES)[number];

export type ComponentIdentity =
  { role: "clc" | "walrus" } | { role: "cc" | "sc"; cluster: string } | { role: "nc"; cluster: string; node: string };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function identityUri(i: ComponentIdentity): string {
  switch (i.role) {
    case "clc":
    case "walrus":
      return `euca://${i.role}`;
    case "nc":
      return `euca://nc/${i.cluster}/${i.node}`;
    default:
      return `euca://${i.role}/${i.cluster}`;
  }
}

/** The identity a URI names; undefined for anything else (other URIs a certificate may hold). */
export function parseIdentityUri(uri: string): ComponentIdentity | undefined {
  const m = /^euca:\/\/([a-z]+)((?:\/[^/]+)*)$/.exec(uri);
  if (!m) return undefined;
  const role = m[1] as ComponentRole;
  const parts = m[2] ? m[2].slice(1).split("/") : [];
  if (!parts.every((p) => NAME.test(p))) return undefined;
  if ((role === "clc" || role === "walrus") && parts.length === 0) return { role };
  if ((role === "cc" || role === "sc") && parts.length === 1) return { role, cluster: parts[0]! };
  if (role === "nc" && parts.length === 2) return { role, cluster: parts[0]!, node: parts[1]! };
  return undefined;
}

/** How a peer is named in logs and in `ctx.caller`: "nc:cluster-a/node11", "cc:cluster-a", "clc". */
export function identityName(i: ComponentIdentity): string {
  return identityUri(i).slice("euca://".length).replace("/", ":");
}

/** A rule a server applies to a verified peer: true when one of its identities may call `method`. */
export type PeerRule = (peer: readonly ComponentIdentity[], method: string) => boolean;

/** Any identity of one of these roles (and, for cluster roles, of this cluster). */
export const peerOf =
  (roles: readonly ComponentRole[], cluster?: string): PeerRule =>
  (peer) =>
    peer.some((i) => roles.includes(i.role) && (cluster === undefined || !("cluster" in i) || i.cluster === cluster));

/** The first rule that names `method` decides; a method no rule names is refused. */
export const byMethod =
  (rules: ReadonlyArray<{ methods: readonly string[] | "*"; rule: PeerRule }>): PeerRule =>
  (peer, method) => {
    const r = rules.find((x) => x.methods === "*" || x.methods.includes(method));
    return !!r && r.rule(peer, method);
  };
