/**
 * `euca admin cluster|node|component-key …`: registering clusters and nodes and their keys,
 * the nodes' health, and the admin's node requests (evacuate, drain, undrain).
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { systemClock } from "../common/clock";
import { randomIds } from "../common/ids";
import { dataDirLayout } from "../common/data-dir";
import { registerCluster, deregisterCluster, listRemoteClusters } from "../roles/clc/clusters/cluster-registry";
import { openCcDatabase } from "../roles/cc/database";
import { CLUSTER_METHODS, type ClusterClient } from "../roles/cc/client";
import { clusterHealth } from "../roles/clc/clusters/cluster-health";
import { createHttpClient } from "../rpc/http-client";
import { registerNode, deregisterNode, nodeHealthRows } from "../roles/cc/node-registry";
import {
  nodeRequestOutcome,
  requestNodeAction,
  type NodeAction,
  type NodeRequestResult,
} from "../roles/cc/node-requests";
import { installComponentKey, readComponentKeys, type IssuedKey } from "../rpc/key-file";
import { withSettings, settingsOf, type CliIo } from "./settings-flags";
import { networkCommand } from "./admin-network";
import { emitKey, positiveInt, table, withClc } from "./admin-common";
import { addJoinCommands } from "./admin-join";

export function addComponentCommands(admin: Command, io: CliIo): void {
  const cluster = admin.command("cluster").description("clusters in other processes or hosts (run on the CLC host)");
  const reg = withSettings(new Command("register"), ["dataDir"])
    .description(
      "register a cluster controller and issue its key; install the key on the CC host with `euca admin component-key install`",
    )
    .argument("<name>", "cluster (availability zone) name")
    .requiredOption("--url <url>", "the CC's internal URL, e.g. http://cc-host:8774")
    .option("--out <file>", "write the key there instead of standard output");
  reg.action((name: string) =>
    withClc(reg, io, (clc) => {
      const o = reg.opts<{ url: string; out?: string }>();
      const c = registerCluster(clc.db, name, o.url, systemClock, randomIds);
      emitKey(io, { ...c.key, role: "cc", name }, o.out, "install it on the CC host");
    }),
  );
  cluster.addCommand(reg);
  const dereg = withSettings(new Command("deregister"), ["dataDir"])
    .description("forget a registered cluster and revoke its key")
    .argument("<name>");
  dereg.action((name: string) =>
    withClc(dereg, io, (clc) => {
      deregisterCluster(clc.db, name);
      io.out(`euca: deregistered cluster ${name}\n`);
    }),
  );
  cluster.addCommand(dereg);
  const clist = withSettings(new Command("list"), ["dataDir"])
    .description(
      "list registered remote clusters, each asked now (signed with its key): available or unavailable and why, its nodes by health, free/max cores and memory of its up nodes",
    )
    .option("--timeout <seconds>", "how long to wait for each cluster's answer", positiveInt, 5);
  clist.action(() =>
    withClc(clist, io, async (clc) => {
      const timeoutMs = clist.opts<{ timeout: number }>().timeout * 1000;
      const ctx = { requestId: `cli-${randomIds.nonce()}` };
      const rows = await Promise.all(
        listRemoteClusters(clc.db).map(async (c) => {
          const client = createHttpClient<ClusterClient>(CLUSTER_METHODS, {
            baseUrl: c.url,
            role: "cc",
            key: c.key,
            clock: systemClock,
            ids: randomIds,
            timeoutMs,
          });
          const h = await clusterHealth({ name: c.name, client }, ctx);
          return [
            c.name,
            c.url,
            h.reason ? `${h.state} (${h.reason})` : h.state,
            h.nodes ?? "-",
            h.cores ?? "-",
            h.memoryMb ?? "-",
            c.key.id,
          ];
        }),
      );
      io.out(table([["NAME", "URL", "STATE", "NODES", "CORES", "MEMORY-MB", "KEY-ID"], ...rows]));
    }),
  );
  cluster.addCommand(clist);

  const node = admin.command("node").description("node controllers in other processes or hosts (run on the CC host)");
  addJoinCommands({ cluster, node }, io);
  const withCc = <T>(cmd: Command, fn: (db: ReturnType<typeof openCcDatabase>) => T): T => {
    const db = openCcDatabase(dataDirLayout(settingsOf(cmd, io).dataDir).database("cc"));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const nreg = withSettings(new Command("register"), ["dataDir"])
    .description(
      "register a node controller with this CC and issue its key; install it on the node with `euca admin component-key install`",
    )
    .argument("<name>", "node name")
    .requiredOption("--url <url>", "the NC's internal URL, e.g. http://node1:8775")
    .option("--out <file>", "write the key there instead of standard output");
  nreg.action((name: string) =>
    withCc(nreg, (db) => {
      const o = nreg.opts<{ url: string; out?: string }>();
      const n = registerNode(db, name, o.url, systemClock, randomIds);
      emitKey(io, { ...n.key, role: "nc", name }, o.out, "install it on the node");
    }),
  );
  node.addCommand(nreg);
  const nder = withSettings(new Command("deregister"), ["dataDir"])
    .description("forget a registered node")
    .argument("<name>");
  nder.action((name: string) =>
    withCc(nder, (db) => {
      deregisterNode(db, name);
      io.out(`euca: deregistered node ${name}\n`);
    }),
  );
  node.addCommand(nder);
  const nlist = withSettings(new Command("list"), ["dataDir"]).description(
    "list this CC's nodes as its last poll saw them: health (up, suspect, down or fenced; drained), since when, last contact, instances, unknown guests, free/max cores and memory",
  );
  nlist.action(() =>
    withCc(nlist, (db) => {
      const rows = nodeHealthRows(db);
      io.out(
        table([
          ["NAME", "URL", "STATE", "SINCE", "LAST-CONTACT", "INSTANCES", "UNKNOWN", "CORES", "MEMORY-MB", "KEY-ID"],
          ...rows.map((n) => [
            n.name,
            n.url ?? "(in process)",
            n.state,
            n.since ?? "-",
            n.lastContact ?? "never",
            String(n.instances),
            String(n.unknown),
            n.cores ?? "-",
            n.memoryMb ?? "-",
            n.keyId ?? "-",
          ]),
        ]),
      );
    }),
  );
  node.addCommand(nlist);
  /** Records a request for the running CC and waits for its outcome (undefined: not carried out within `waitS`). */
  async function requestOfCc(
    cmd: Command,
    name: string,
    action: NodeAction,
    waitS: number,
  ): Promise<Exclude<NodeRequestResult, { error: string }> | undefined> {
    const db = openCcDatabase(dataDirLayout(settingsOf(cmd, io).dataDir).database("cc"));
    try {
      requestNodeAction(db, name, action, systemClock);
      const deadline = Date.now() + waitS * 1000;
      let outcome = nodeRequestOutcome(db, name);
      for (; !outcome && Date.now() < deadline; outcome = nodeRequestOutcome(db, name))
        await new Promise((r) => setTimeout(r, 200));
      if (!outcome)
        io.out(`euca: ${action} of ${name} recorded; the CC carries it out on its next poll (is it running?)\n`);
      else if ("error" in outcome) throw new Error(`the CC could not ${action} ${name}: ${outcome.error}`);
      return outcome;
    } finally {
      db.close();
    }
  }
  const nevac = withSettings(new Command("evacuate"), ["dataDir"])
    .description(
      "give up a dead node's instances: they are terminated with a reason, their addresses and volumes freed, and should the node answer again its guests are destroyed. Never automatic; --fenced states that the node is powered off",
    )
    .argument("<name>", "node name")
    .option(
      "--fenced",
      "you state the node is powered off (fenced): required, since a node that still runs its guests would keep running them",
    )
    .option("--wait <seconds>", "how long to wait for the running CC to carry it out", positiveInt, 30);
  nevac.action(async (name: string) => {
    const o = nevac.opts<{ fenced?: boolean; wait: number }>();
    if (!o.fenced)
      throw new Error(
        "evacuate gives up the node's instances while their guests may still run: power the node off first and say so with --fenced",
      );
    const outcome = await requestOfCc(nevac, name, "evacuate", o.wait);
    if (outcome && "instanceIds" in outcome)
      io.out(`euca: node ${name} fenced; instances given up: ${outcome.instanceIds.join(" ") || "none"}\n`);
  });
  node.addCommand(nevac);
  const ndrain = withSettings(new Command("drain"), ["dataDir"])
    .description(
      "stop placing instances on a node and live-migrate its running guests to the cluster's other nodes (same instance ids, addresses and volumes; each paused only for its migration's last pass), so the node can be serviced",
    )
    .argument("<name>", "node name")
    .option(
      "--wait <seconds>",
      "how long to wait for the running CC to finish (it goes on regardless)",
      positiveInt,
      1800,
    );
  ndrain.action(async (name: string) => {
    const outcome = await requestOfCc(ndrain, name, "drain", ndrain.opts<{ wait: number }>().wait);
    if (!outcome || !("migrated" in outcome)) return;
    const rows = outcome.migrated.map((m) =>
      "error" in m
        ? [m.instanceId, m.from, "-", "stayed", m.error]
        : [
            m.instanceId,
            m.from,
            m.to,
            "migrated",
            `${m.totalMs} ms in all, paused ${m.downtimeMs + m.handoverMs} ms; ${Math.round(m.ramBytes / 2 ** 20)} MiB RAM, ${Math.round(m.diskBytes / 2 ** 20)} MiB disk`,
          ],
    );
    io.out(table([["INSTANCE", "FROM", "TO", "RESULT", "DETAIL"], ...rows]));
    io.out(
      `euca: node ${name} drained${outcome.migrated.some((m) => "error" in m) ? "; some instances could not move and run on there" : ""}\n`,
    );
  });
  node.addCommand(ndrain);
  const nundrain = withSettings(new Command("undrain"), ["dataDir"])
    .description("let a drained node take new instances again")
    .argument("<name>", "node name")
    .option("--wait <seconds>", "how long to wait for the running CC", positiveInt, 30);
  nundrain.action(async (name: string) => {
    if (await requestOfCc(nundrain, name, "undrain", nundrain.opts<{ wait: number }>().wait))
      io.out(`euca: node ${name} takes new instances again\n`);
  });
  node.addCommand(nundrain);
  admin.addCommand(networkCommand(io, table));

  const key = admin.command("component-key").description("keys this host accepts for signed internal calls");
  const install = withSettings(new Command("install"), ["dataDir"])
    .description("install a key issued by `cluster register` or `node register`")
    .argument("<file>");
  install.action((file: string) => {
    const k = JSON.parse(readFileSync(file, "utf8")) as IssuedKey;
    if (typeof k.id !== "string" || typeof k.secret !== "string") throw new Error(`${file} is not a component key`);
    const path = dataDirLayout(settingsOf(install, io).dataDir).componentKeys;
    installComponentKey(path, k);
    io.out(`euca: installed key ${k.id} for ${k.role} '${k.name}' in ${path}; a running euca picks it up at once\n`);
  });
  key.addCommand(install);
  const klist = withSettings(new Command("list"), ["dataDir"]).description("list installed component keys (ids only)");
  klist.action(() => {
    const keys = readComponentKeys(dataDirLayout(settingsOf(klist, io).dataDir).componentKeys);
    io.out(table([["KEY-ID", "ROLE", "NAME"], ...keys.map((k) => [k.id, k.role, k.name])]));
  });
  key.addCommand(klist);
}
