/**
 * `euca admin cluster add|remove` and `euca admin node add|remove` (on the CLC host): a
 * one-time `euca join <token>` line for a new host, and removing a host (its certificate
 * revoked, the CA's revocation list rewritten for the running roles to pick up).
 */
import { Command } from "commander";
import pino from "pino";
import { systemClock } from "../common/clock";
import { randomIds } from "../common/ids";
import { dataDirLayout } from "../common/data-dir";
import { writeFileAtomic } from "../common/files";
import { internalUrlForCommand } from "../config/endpoints";
import { siteSettingsOf } from "../config/site-settings";
import type { Settings } from "../config/settings";
import { createHttpClient } from "../rpc/http-client";
import { loadHostTls } from "../rpc/host-tls";
import { createJoins } from "../roles/clc/clusters/joins";
import { listRemoteClusters } from "../roles/clc/clusters/cluster-registry";
import { CLUSTER_METHODS, type ClusterClient } from "../roles/cc/client";
import { openCcDatabase } from "../roles/cc/database";
import { forgetNode, joinNode } from "../roles/cc/node-registry";
import type { OfflineClc } from "./clc-offline";
import { withSettings, type CliIo } from "./settings-flags";
import { withClc } from "./admin-common";
import { localOption, remoteAdmin } from "./admin-remote";
import { ec2Call } from "./image/signed-http";
import type { ClientEnv } from "./image/client-env";

/** A token made by the running CLC through its admin action. */
async function remoteToken(env: ClientEnv, params: Record<string, string>, ttlMs?: number) {
  const r = await ec2Call(env, "CreateJoinToken", {
    ...params,
    ...(ttlMs ? { TtlSeconds: String(Math.round(ttlMs / 1000)) } : {}),
  });
  return { token: String(r.token), expires: new Date(String(r.expires)) };
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "3h", "2d" → milliseconds. */
export function parseTtl(v: string): number {
  const m = /^(\d+)([smhd])$/.exec(v.trim());
  if (!m) throw new Error(`'${v}' is not a duration such as 30m, 3h or 2d`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/**
 * The cluster a node joins or leaves, as this command can reach it: a cluster that joined
 * over mutual TLS with the head's certificate (or signed with its key), the head's own CC
 * through its database.
 */
function clusterFor(clc: OfflineClc, s: Settings) {
  return (name: string): Pick<ClusterClient, "addNode" | "removeNode"> | undefined => {
    const layout = dataDirLayout(s.dataDir);
    const remote = listRemoteClusters(clc.db).find((c) => c.name === name);
    if (remote)
      return createHttpClient<ClusterClient>(CLUSTER_METHODS, {
        baseUrl: remote.url,
        role: "cc",
        key: remote.key,
        tls: loadHostTls(layout),
        clock: systemClock,
        ids: randomIds,
        timeoutMs: 15_000,
      });
    if (!(s.roles.includes("cc") && name === s.clusterName)) return undefined;
    const local = async (fn: (db: ReturnType<typeof openCcDatabase>) => void) => {
      const db = openCcDatabase(layout.database("cc"));
      try {
        fn(db);
      } finally {
        db.close();
      }
    };
    return {
      addNode: ({ node, url }) => local((db) => joinNode(db, node, url, systemClock, randomIds)),
      removeNode: ({ node }) => local((db) => forgetNode(db, node)),
    };
  };
}

function joinsOf(clc: OfflineClc, s: Settings) {
  return createJoins({
    db: clc.db,
    ca: () => clc.ca,
    clock: systemClock,
    ids: randomIds,
    log: pino({ level: "silent" }),
    cluster: clusterFor(clc, s) as (name: string) => ClusterClient | undefined,
    site: () => ({ url: internalUrlForCommand(s), settings: siteSettingsOf(s) }),
  });
}

export function addJoinCommands(groups: { cluster: Command; node: Command }, io: CliIo): void {
  const ttlHelp = "how long the token may be used: 30m, 3h, 2d (default 3h, at most 7d)";
  const printToken = (what: string, t: { token: string; expires: Date }) =>
    io.out(
      `euca: run this on the new ${what}'s host before ${t.expires.toISOString()} (once; it holds a secret):\n\n  euca join ${t.token}\n\n`,
    );

  const cadd = localOption(
    withSettings(new Command("add"), ["dataDir", "host", "internalPort", "roles", "clusterName"]),
  )
    .description("make a one-time token for a new cluster's host (its CC and SC) to join with `euca join`")
    .argument("<name>", "cluster (availability zone) name")
    .option("--ttl <duration>", ttlHelp, parseTtl);
  cadd.action(async (name: string) => {
    const ttlMs = cadd.opts<{ ttl?: number }>().ttl;
    const env = remoteAdmin(cadd, io);
    if (env)
      return printToken(`cluster ${name}`, await remoteToken(env, { Kind: "cluster", ClusterName: name }, ttlMs));
    await withClc(cadd, io, (clc, s) =>
      printToken(`cluster ${name}`, joinsOf(clc, s).issue({ kind: "cluster", cluster: name, ttlMs })),
    );
  });
  groups.cluster.addCommand(cadd);

  const nadd = localOption(
    withSettings(new Command("add"), ["dataDir", "host", "internalPort", "roles", "clusterName"]),
  )
    .description("make a one-time token for a new node of a cluster to join with `euca join` (run on the CLC host)")
    .argument("<name>", "node name")
    .requiredOption("--cluster <name>", "the cluster it joins")
    .option("--ttl <duration>", ttlHelp, parseTtl);
  nadd.action(async (name: string) => {
    const o = nadd.opts<{ cluster: string; ttl?: number }>();
    const env = remoteAdmin(nadd, io);
    if (env)
      return printToken(
        `node ${name}`,
        await remoteToken(env, { Kind: "node", ClusterName: o.cluster, NodeName: name }, o.ttl),
      );
    await withClc(nadd, io, (clc, s) =>
      printToken(`node ${name}`, joinsOf(clc, s).issue({ kind: "node", cluster: o.cluster, node: name, ttlMs: o.ttl })),
    );
  });
  groups.node.addCommand(nadd);

  const said = (o: { kind: "cluster" | "node"; cluster: string; node?: string }, revoked: number) =>
    io.out(
      `euca: removed ${o.kind} ${o.node ?? o.cluster}; ${revoked} certificate${revoked === 1 ? "" : "s"} revoked (every role refuses ${revoked === 1 ? "it" : "them"} within 30 s)\n`,
    );
  const remove = async (cmd: Command, o: { kind: "cluster" | "node"; cluster: string; node?: string }) => {
    const env = remoteAdmin(cmd, io);
    if (env) {
      const r = await ec2Call(env, "DeregisterHost", {
        Kind: o.kind,
        ClusterName: o.cluster,
        ...(o.node ? { NodeName: o.node } : {}),
      });
      return said(o, Number(r.revoked ?? 0));
    }
    await withClc(cmd, io, async (clc, s) => {
      const joins = joinsOf(clc, s);
      const { revoked } = await joins.remove(o, { requestId: `cli-${randomIds.nonce()}` });
      writeFileAtomic(dataDirLayout(s.dataDir).revocations, await joins.revocationList(), 0o600);
      said(o, revoked);
    });
  };
  const cremove = localOption(withSettings(new Command("remove"), ["dataDir", "roles", "clusterName"]))
    .description("remove a cluster that joined: its certificate is revoked and the CLC forgets it")
    .argument("<name>");
  cremove.action((name: string) => remove(cremove, { kind: "cluster", cluster: name }));
  groups.cluster.addCommand(cremove);

  const nremove = localOption(withSettings(new Command("remove"), ["dataDir", "roles", "clusterName"]))
    .description(
      "remove a node that joined: its certificate is revoked and its CC stops using it (run on the CLC host)",
    )
    .argument("<name>")
    .requiredOption("--cluster <name>", "the cluster it is in");
  nremove.action((name: string) =>
    remove(nremove, { kind: "node", cluster: nremove.opts<{ cluster: string }>().cluster, node: name }),
  );
  groups.node.addCommand(nremove);
}
