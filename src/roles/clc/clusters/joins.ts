/**
 * Hosts join the cloud by token (`euca admin cluster add` / `node add` print one line,
 * `euca join <token>` runs on the new host): the CLC keeps each token's hash, expiry and
 * use; a host that presents an unused, unexpired token and a certificate request gets a
 * certificate for that cluster's CC and SC or that node, and the site's settings, and is
 * registered — a node with its cluster's CC. Removing a host revokes its certificate
 * (the CA's revocation list every role checks). No secret is copied between hosts.
 */
import { and, eq, gt, isNull, like, or } from "drizzle-orm";
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { Logger } from "pino";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import {
  AccessDeniedError,
  DuplicateError,
  InvalidParameterError,
  NotFoundError,
  UnavailableError,
} from "../../../common/errors";
import { sha256Fingerprint } from "../../../auth/x509";
import { encodeJoinToken, type JoinGrant } from "../../../rpc/join-token";

export type { JoinGrant } from "../../../rpc/join-token";
import { identityUri, type ComponentIdentity } from "../../../rpc/identity";
import type { CallContext } from "../../../rpc/types";
import type { ClusterClient } from "../../cc/client";
import type { ClcDatabase } from "../database";
import { clusters, hostCertificates, joinTokens } from "../schema";
import { deregisterCluster, registerCluster } from "./cluster-registry";
import { issueHostCertificate, makeRevocationList } from "../identity/host-certificates";
import type { CloudCa } from "../identity/cloud-ca";

export const DEFAULT_JOIN_TTL_MS = 3 * 3600 * 1000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export type JoinKind = "cluster" | "node";

export interface JoinRequest {
  id: string;
  secret: string;
  /** The host's certificate request (its key stays on the host). */
  csrPem: string;
  /** The address other hosts reach it at (its --host), and the port of its internal listener. */
  address: string;
  port: number;
}

export interface JoinDeps {
  db: ClcDatabase;
  ca: () => CloudCa;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  /** The zone's cluster client (nodes are added there). */
  cluster: (name: string) => ClusterClient | undefined;
  /** The head's internal URL and the site's settings a host is given. */
  site: () => { url: string; settings: Record<string, string> };
  /** Told the new revocation list after a removal (the running head installs it for its listeners). */
  revoked?: (crlPem: string) => void;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest();

function checkName(what: string, name: string): void {
  if (!NAME.test(name))
    throw new InvalidParameterError(what, `'${name}' is not a valid ${what} name (letters, digits, '_', '.', '-')`);
}

export function createJoins(d: JoinDeps) {
  const { db } = d.db;
  let crl: { revoked: string; pem: string } | undefined;

  const identitiesOf = (kind: JoinKind, cluster: string, node?: string): ComponentIdentity[] =>
    kind === "cluster"
      ? [
          { role: "cc", cluster },
          { role: "sc", cluster },
        ]
      : [{ role: "nc", cluster, node: node! }];

  function revoke(identity: ComponentIdentity): number {
    const uri = identityUri(identity);
    return db
      .update(hostCertificates)
      .set({ revokedAt: d.clock.now() })
      .where(
        and(
          isNull(hostCertificates.revokedAt),
          or(
            eq(hostCertificates.identities, uri),
            like(hostCertificates.identities, `%${uri} %`),
            like(hostCertificates.identities, `% ${uri}`),
          ),
        ),
      )
      .run().changes;
  }

  return {
    /** A one-time token for a cluster or a node to join; the line to run on that host. */
    issue(o: { kind: JoinKind; cluster: string; node?: string; ttlMs?: number }): { token: string; expires: Date } {
      checkName("cluster", o.cluster);
      const known = db.select().from(clusters).where(eq(clusters.name, o.cluster)).get();
      // A cluster that joined before may join again (a new certificate, say before the old expires); one
      // registered with a key or in this process is another cluster of that name.
      if (o.kind === "cluster" && known && !known.url?.startsWith("https:"))
        throw new DuplicateError("cluster", o.cluster);
      if (o.kind === "node") {
        checkName("node", o.node ?? "");
        if (!known && !d.cluster(o.cluster)) throw new NotFoundError("cluster", o.cluster);
      }
      const ttl = o.ttlMs ?? DEFAULT_JOIN_TTL_MS;
      if (!(ttl > 0 && ttl <= 7 * 24 * 3600 * 1000))
        throw new InvalidParameterError("ttl", "A join token lives between a second and 7 days");
      const now = d.clock.now();
      const id = d.ids.nonce().slice(0, 20);
      const secret = d.ids.secretKey();
      const expires = new Date(now.getTime() + ttl);
      db.insert(joinTokens)
        .values({
          id,
          secretSha256: sha256(secret).toString("hex"),
          kind: o.kind,
          cluster: o.cluster,
          node: o.node ?? null,
          expiresAt: expires,
          createdAt: now,
        })
        .run();
      const token = encodeJoinToken({
        url: d.site().url,
        fingerprint: sha256Fingerprint(d.ca().certPem),
        id,
        secret,
        expires,
        kind: o.kind,
      });
      return { token, expires };
    },

    async redeem(r: JoinRequest, ctx: CallContext): Promise<JoinGrant> {
      if (!(isIP(r.address) || HOSTNAME.test(r.address)))
        throw new InvalidParameterError("address", `'${r.address}' is not an address or a host name`);
      if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535)
        throw new InvalidParameterError("port", "The port must be 1-65535");
      const now = d.clock.now();
      const t = db
        .select()
        .from(joinTokens)
        .where(eq(joinTokens.id, String(r.id)))
        .get();
      const given = sha256(String(r.secret));
      if (!t || !timingSafeEqual(given, Buffer.from(t.secretSha256, "hex")))
        throw new AccessDeniedError("The join token is not one this cloud issued");
      if (t.usedAt) throw new AccessDeniedError("The join token has been used: ask the administrator for a new one");
      if (t.expiresAt.getTime() <= now.getTime())
        throw new AccessDeniedError("The join token has expired: ask the administrator for a new one");
      // Taken before anything is issued, so two hosts cannot both use it; given back if the join fails.
      const took = db
        .update(joinTokens)
        .set({ usedAt: now })
        .where(and(eq(joinTokens.id, t.id), isNull(joinTokens.usedAt), gt(joinTokens.expiresAt, now)))
        .run().changes;
      if (took !== 1) throw new AccessDeniedError("The join token has been used: ask the administrator for a new one");
      const node = t.node ?? undefined;
      const identities = identitiesOf(t.kind, t.cluster, node);
      const url = `https://${isIP(r.address) === 6 ? `[${r.address}]` : r.address}:${r.port}`;
      try {
        const cert = await issueHostCertificate(d.ca(), {
          csrPem: r.csrPem,
          identities,
          addresses: [r.address],
          now,
        });
        if (t.kind === "cluster") {
          const known = db.select().from(clusters).where(eq(clusters.name, t.cluster)).get();
          for (const i of identities) revoke(i); // joining again replaces the old certificate
          if (known) db.update(clusters).set({ url }).where(eq(clusters.name, t.cluster)).run();
          else registerCluster(d.db, t.cluster, url, d.clock, d.ids);
        } else {
          const cc = d.cluster(t.cluster);
          if (!cc) throw new UnavailableError(`cluster ${t.cluster} is not registered`);
          for (const i of identities) revoke(i); // a node joining again replaces its old certificate
          await cc.addNode({ node: node!, url }, ctx);
        }
        db.insert(hostCertificates)
          .values({
            serial: cert.serial,
            identities: identities.map(identityUri).join(" "),
            address: r.address,
            issuedAt: now,
            notAfter: cert.notAfter,
          })
          .run();
        d.log.info(
          { requestId: ctx.requestId, kind: t.kind, cluster: t.cluster, node, address: r.address, serial: cert.serial },
          "clc: a host joined",
        );
        const site = d.site();
        return {
          kind: t.kind,
          cluster: t.cluster,
          node,
          roles: t.kind === "cluster" ? ["cc", "sc"] : ["nc"],
          certPem: cert.certPem,
          caPem: d.ca().certPem,
          crlPem: await this.revocationList(),
          url: site.url,
          settings: site.settings,
        };
      } catch (e) {
        db.update(joinTokens).set({ usedAt: null }).where(eq(joinTokens.id, t.id)).run();
        throw e;
      }
    },

    /** The admin removes a cluster or a node: its certificates are revoked and it is forgotten (a node by its CC too). */
    async remove(
      o: { kind: JoinKind; cluster: string; node?: string },
      ctx: CallContext,
    ): Promise<{ revoked: number }> {
      let revoked = 0;
      for (const i of identitiesOf(o.kind, o.cluster, o.node)) revoked += revoke(i);
      if (o.kind === "cluster") {
        if (db.select().from(clusters).where(eq(clusters.name, o.cluster)).get()) deregisterCluster(d.db, o.cluster);
      } else {
        const cc = d.cluster(o.cluster);
        if (!cc) throw new NotFoundError("cluster", o.cluster);
        await cc.removeNode({ node: o.node! }, ctx);
      }
      crl = undefined;
      d.revoked?.(await this.revocationList());
      d.log.warn({ requestId: ctx.requestId, ...o, revoked }, "clc: host removed; its certificate is revoked");
      return { revoked };
    },

    /** The CA's revocation list (PEM), made again when a certificate was revoked since. */
    async revocationList(): Promise<string> {
      const rows = db
        .select({ serial: hostCertificates.serial, at: hostCertificates.revokedAt })
        .from(hostCertificates)
        .all()
        .filter((r): r is { serial: string; at: Date } => r.at !== null);
      const key = rows.map((r) => r.serial).join(",");
      if (!crl || crl.revoked !== key)
        crl = { revoked: key, pem: await makeRevocationList(d.ca(), rows, d.clock.now()) };
      return crl.pem;
    },

    /** When each component's newest live certificate expires (by euca:// identity), for `euca admin status`. */
    certificateExpiry(): Map<string, Date> {
      const out = new Map<string, Date>();
      for (const r of db.select().from(hostCertificates).where(isNull(hostCertificates.revokedAt)).all())
        for (const uri of r.identities.split(" "))
          if (!out.has(uri) || out.get(uri)!.getTime() < r.notAfter.getTime()) out.set(uri, r.notAfter);
      return out;
    },

    /** Records a certificate the CA issued outside a join (the head's own). */
    recordIssued(c: { serial: string; identities: ComponentIdentity[]; address: string; notAfter: Date }): void {
      db.insert(hostCertificates)
        .values({
          serial: c.serial,
          identities: c.identities.map(identityUri).join(" "),
          address: c.address,
          issuedAt: d.clock.now(),
          notAfter: c.notAfter,
        })
        .onConflictDoNothing()
        .run();
    },
  };
}

export type Joins = ReturnType<typeof createJoins>;
