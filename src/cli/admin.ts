/** `euca admin …`: users, credentials, VM types and component registration, straight on the data directory. */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { writeFileAtomic } from "../common/files";
import { systemClock } from "../common/clock";
import { randomIds } from "../common/ids";
import { dataDirLayout } from "../common/data-dir";
import { CREDENTIAL_FORMATS, renderCredentials, type CredentialFormat } from "../roles/clc/credentials";
import { writeCredentialsZip, zipName } from "../roles/clc/credentials-zip";
import { registerCluster, deregisterCluster, listRemoteClusters } from "../roles/clc/cluster-registry";
import { openCcDatabase } from "../roles/cc/database";
import { CLUSTER_METHODS, type ClusterClient } from "../roles/cc/client";
import { clusterHealth } from "../roles/clc/cluster-health";
import { createHttpClient } from "../rpc/http-client";
import { registerNode, deregisterNode, nodeHealthRows } from "../roles/cc/node-registry";
import {
  nodeRequestOutcome,
  requestNodeAction,
  type NodeAction,
  type NodeRequestResult,
} from "../roles/cc/node-requests";
import { installComponentKey, readComponentKeys, type IssuedKey } from "../rpc/key-file";
import { openOfflineClc, type OfflineClc } from "./clc-offline";
import { withSettings, settingsOf, settingsWithSourcesOf, type CliIo } from "./settings-flags";
import type { Settings } from "../config/settings";
import { endpointsForCommand } from "../config/endpoints";
import { networkCommand } from "./admin-network";

const ENDPOINT_SETTINGS = ["dataDir", "host", "ec2Port", "s3Port", "region"] as const;

async function withClc<T>(
  cmd: Command,
  io: CliIo,
  fn: (clc: OfflineClc, s: Settings, given: ReadonlySet<keyof Settings>) => Promise<T> | T,
): Promise<T> {
  const { settings: s, given } = settingsWithSourcesOf(cmd, io);
  const clc = await openOfflineClc(s, given, io.err);
  try {
    return await fn(clc, s, given);
  } finally {
    clc.close();
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

function positiveInt(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`'${v}' is not a positive integer`);
  return Number(v);
}

function emitKey(io: CliIo, key: IssuedKey, out: string | undefined, installHint: string): void {
  const json = JSON.stringify(key, null, 2) + "\n";
  if (out) {
    writeFileAtomic(out, json, 0o600);
    io.out(`euca: key for ${key.role} '${key.name}' written to ${out}; ${installHint}\n`);
  } else {
    io.out(json);
  }
}

export function addAdminCommands(program: Command, io: CliIo): void {
  const admin = program.command("admin").description("administer users, credentials, VM types and components");

  const creds = withSettings(new Command("credentials"), ENDPOINT_SETTINGS)
    .description("print or write a user's credentials (a new key pair and certificate are made the first time)")
    .requiredOption("--user <name>", "the user")
    .addOption(
      new Option(
        "--format <format>",
        "eucarc (shell, sourceable), env (KEY=value), aws (~/.aws/credentials profile) or zip (Eucalyptus' euca2-<user>-x509.zip: eucarc, keys, certificates)",
      )
        .choices([...CREDENTIAL_FORMATS, "zip"])
        .default("eucarc"),
    )
    .option(
      "--out <file>",
      "write to this file (mode 0600) instead of standard output (zip: default ./euca2-<user>-x509.zip)",
    );
  creds.action(() =>
    withClc(creds, io, async (clc, s, given) => {
      const o = creds.opts<{ user: string; format: CredentialFormat | "zip"; out?: string }>();
      const user = clc.identity.getUser(o.user);
      await clc.identity.ensureCredentials(user);
      const { set, dir } = clc.identity.credentialSetOf(o.user);
      if (o.format === "zip") {
        const out = o.out ?? zipName(o.user);
        await writeCredentialsZip(dir, out);
        io.out(`euca: credentials of ${o.user} written to ${out}; unzip it and run: source eucarc\n`);
        return;
      }
      const text = renderCredentials(o.format, set, endpointsForCommand(s, given), dir);
      if (o.out) {
        writeFileAtomic(o.out, text, 0o600);
        io.out(`euca: ${o.format} credentials of ${o.user} written to ${o.out}\n`);
      } else io.out(text);
    }),
  );
  admin.addCommand(creds);

  const user = admin.command("user").description("manage users");
  const create = withSettings(new Command("create"), ENDPOINT_SETTINGS)
    .description("create a user with an access key, a certificate and a credentials directory")
    .argument("<name>", "user name: 1-30 of letters, digits, _ . @ -")
    .option("--account <name>", "account to create the user in (default: a new account named after the user)")
    .option("--admin", "give the user admin powers");
  create.action((name: string) =>
    withClc(create, io, async (clc) => {
      const o = create.opts<{ account?: string; admin?: boolean }>();
      const made = await clc.identity.createUser(name, { account: o.account, admin: o.admin === true });
      io.out(
        `euca: created user ${name} (account ${made.user.accountId}${made.user.isAdmin ? ", admin" : ""}); credentials in ${made.credentials.dir}\n`,
      );
    }),
  );
  user.addCommand(create);
  const list = withSettings(new Command("list"), ["dataDir"]).description("list users");
  list.action(() =>
    withClc(list, io, (clc) => {
      const rows = clc.identity
        .listUsers()
        .map((u) => [
          u.name,
          u.accountName,
          u.accountId,
          u.isAdmin ? "yes" : "no",
          u.enabled ? "yes" : "no",
          u.createdAt.toISOString(),
        ]);
      io.out(table([["USER", "ACCOUNT", "ACCOUNT-ID", "ADMIN", "ENABLED", "CREATED"], ...rows]));
    }),
  );
  user.addCommand(list);
  const del = withSettings(new Command("delete"), ["dataDir"])
    .description("delete a user, its keys, certificates and credentials directory")
    .argument("<name>");
  del.action((name: string) =>
    withClc(del, io, (clc) => {
      clc.identity.deleteUser(name);
      io.out(`euca: deleted user ${name}\n`);
    }),
  );
  user.addCommand(del);

  const vm = admin.command("vm-types").description("list or change VM types (CPUs, memory MB, disk GB)");
  const vmList = withSettings(new Command("list"), ["dataDir"]).description("list VM types");
  vmList.action(() =>
    withClc(vmList, io, (clc) => {
      io.out(
        table([
          ["NAME", "CPUS", "MEMORY-MB", "DISK-GB"],
          ...clc.vmTypes.list().map((t) => [t.name, String(t.cpus), String(t.memoryMb), String(t.diskGb)]),
        ]),
      );
    }),
  );
  vm.addCommand(vmList);
  const vmSet = withSettings(new Command("set"), ["dataDir"])
    .description("change a VM type, or add it when new")
    .argument("<name>")
    .requiredOption("--cpus <n>", "virtual CPUs", positiveInt)
    .requiredOption("--memory <mb>", "memory in MB", positiveInt)
    .requiredOption("--disk <gb>", "disk in GB", positiveInt);
  vmSet.action((name: string) =>
    withClc(vmSet, io, (clc) => {
      const o = vmSet.opts<{ cpus: number; memory: number; disk: number }>();
      const t = clc.vmTypes.set({ name, cpus: o.cpus, memoryMb: o.memory, diskGb: o.disk });
      io.out(`euca: vm type ${t.name}: ${t.cpus} cpus, ${t.memoryMb} MB, ${t.diskGb} GB\n`);
    }),
  );
  vm.addCommand(vmSet);

  addComponentCommands(admin, io);
}

function addComponentCommands(admin: Command, io: CliIo): void {
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
