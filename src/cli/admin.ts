/** `euca admin …`: users, credentials, VM types and component registration, straight on the data directory. */
import { Command, Option } from "commander";
import { writeFileAtomic } from "../common/files";
import { CREDENTIAL_FORMATS, renderCredentials, type CredentialFormat } from "../roles/clc/identity/credentials";
import { writeCredentialsZip, zipName } from "../roles/clc/identity/credentials-zip";
import { withSettings, type CliIo } from "./settings-flags";
import { endpointsForCommand } from "../config/endpoints";
import { addComponentCommands } from "./admin-components";
import { addPropertyCommands, statusCommand } from "./admin-remote";
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
  addPropertyCommands(admin, io);
  admin.addCommand(statusCommand(io));
}
