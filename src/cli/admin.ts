/** `euca admin …`: users, credentials, VM types and component registration, straight on the data directory. */
import { Command, Option } from "commander";
import { writeFileAtomic } from "../common/files";
import { CREDENTIAL_FORMATS, renderCredentials, type CredentialFormat } from "../roles/clc/identity/credentials";
import { writeCredentialsZip, zipName } from "../roles/clc/identity/credentials-zip";
import { withSettings, type CliIo } from "./settings-flags";
import { endpointsForCommand } from "../config/endpoints";
import { addComponentCommands } from "./admin-components";
import { addPropertyCommands, items, localOption, remoteAdmin, statusCommand } from "./admin-remote";
import { ec2Call } from "./image/signed-http";
import { positiveInt, table, withClc } from "./admin-common";

const ENDPOINT_SETTINGS = ["dataDir", "host", "ec2Port", "s3Port", "region"] as const;

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
  const create = localOption(withSettings(new Command("create"), ENDPOINT_SETTINGS))
    .description("create a user with an access key, a certificate and a credentials directory")
    .argument("<name>", "user name: 1-30 of letters, digits, _ . @ -")
    .option("--account <name>", "account to create the user in (default: a new account named after the user)")
    .option("--admin", "give the user admin powers");
  create.action(async (name: string) => {
    const o = create.opts<{ account?: string; admin?: boolean }>();
    const said = (u: { accountId: string; isAdmin: boolean; dir: string }) =>
      io.out(
        `euca: created user ${name} (account ${u.accountId}${u.isAdmin ? ", admin" : ""}); credentials in ${u.dir}\n`,
      );
    const env = remoteAdmin(create, io);
    if (env) {
      const r = (await ec2Call(env, "CreateCloudUser", {
        UserName: name,
        ...(o.account ? { AccountName: o.account } : {}),
        ...(o.admin ? { Admin: "true" } : {}),
      })) as Record<string, string>;
      return said({
        accountId: r.accountId ?? "",
        isAdmin: r.isAdmin === "true",
        dir: `${r.credentialsDir} on the head`,
      });
    }
    await withClc(create, io, async (clc) => {
      const made = await clc.identity.createUser(name, { account: o.account, admin: o.admin === true });
      said({ accountId: made.user.accountId, isAdmin: made.user.isAdmin, dir: made.credentials.dir });
    });
  });
  user.addCommand(create);
  const list = localOption(withSettings(new Command("list"), ["dataDir"])).description("list users");
  list.action(async () => {
    const env = remoteAdmin(list, io);
    const users = env
      ? items<Record<string, string>>((await ec2Call(env, "DescribeCloudUsers", {})).users).map((u) => ({
          name: u.name ?? "",
          accountName: u.accountName ?? "",
          accountId: u.accountId ?? "",
          isAdmin: u.isAdmin === "true",
          enabled: u.enabled === "true",
          createdAt: u.createdAt ?? "",
        }))
      : await withClc(list, io, (clc) =>
          clc.identity.listUsers().map((u) => ({ ...u, createdAt: u.createdAt.toISOString() })),
        );
    const rows = users.map((u) => [
      u.name,
      u.accountName,
      u.accountId,
      u.isAdmin ? "yes" : "no",
      u.enabled ? "yes" : "no",
      u.createdAt,
    ]);
    io.out(table([["USER", "ACCOUNT", "ACCOUNT-ID", "ADMIN", "ENABLED", "CREATED"], ...rows]));
  });
  user.addCommand(list);
  const del = localOption(withSettings(new Command("delete"), ["dataDir"]))
    .description("delete a user, its keys, certificates and credentials directory")
    .argument("<name>");
  del.action(async (name: string) => {
    const env = remoteAdmin(del, io);
    if (env) await ec2Call(env, "DeleteCloudUser", { UserName: name });
    else await withClc(del, io, (clc) => clc.identity.deleteUser(name));
    io.out(`euca: deleted user ${name}\n`);
  });
  user.addCommand(del);

  const vm = admin.command("vm-types").description("list or change VM types (CPUs, memory MB, disk GB)");
  const vmList = localOption(withSettings(new Command("list"), ["dataDir"])).description("list VM types");
  vmList.action(async () => {
    const env = remoteAdmin(vmList, io);
    const types = env
      ? items<Record<string, string>>((await ec2Call(env, "DescribeVmTypes", {})).vmTypes).map((t) => ({
          name: t.name ?? "",
          cpus: Number(t.cpus),
          memoryMb: Number(t.memoryMb),
          diskGb: Number(t.diskGb),
        }))
      : await withClc(vmList, io, (clc) => clc.vmTypes.list());
    io.out(
      table([
        ["NAME", "CPUS", "MEMORY-MB", "DISK-GB"],
        ...types.map((t) => [t.name, String(t.cpus), String(t.memoryMb), String(t.diskGb)]),
      ]),
    );
  });
  vm.addCommand(vmList);
  const vmSet = localOption(withSettings(new Command("set"), ["dataDir"]))
    .description("change a VM type, or add it when new")
    .argument("<name>")
    .requiredOption("--cpus <n>", "virtual CPUs", positiveInt)
    .requiredOption("--memory <mb>", "memory in MB", positiveInt)
    .requiredOption("--disk <gb>", "disk in GB", positiveInt);
  vmSet.action(async (name: string) => {
    const o = vmSet.opts<{ cpus: number; memory: number; disk: number }>();
    const env = remoteAdmin(vmSet, io);
    const t = env
      ? ((await ec2Call(env, "ModifyVmType", {
          Name: name,
          Cpus: String(o.cpus),
          MemoryMb: String(o.memory),
          DiskGb: String(o.disk),
        })) as Record<string, string>)
      : await withClc(vmSet, io, (clc) => clc.vmTypes.set({ name, cpus: o.cpus, memoryMb: o.memory, diskGb: o.disk }));
    io.out(`euca: vm type ${t.name}: ${t.cpus} cpus, ${t.memoryMb} MB, ${t.diskGb} GB\n`);
  });
  vm.addCommand(vmSet);

  addComponentCommands(admin, io);
  addPropertyCommands(admin, io);
  admin.addCommand(statusCommand(io));
}
