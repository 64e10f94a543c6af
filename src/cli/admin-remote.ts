/**
 * `euca admin` from any host: with the admin's credentials in the environment (a sourced
 * eucarc: EC2_URL and the keys), commands call the CLC's signed admin actions; without
 * them (or with --local) they open the CLC's state in the data directory, for a cloud
 * that is stopped. `property` and `status` live here; `cluster|node add|remove` use it too.
 */
import { Command } from "commander";
import { createSettingsStore } from "../config/settings-store";
import { createProperties, type PropertyView } from "../roles/clc/admin/properties";
import { clientEnv, type ClientEnv } from "./image/client-env";
import { ec2Call } from "./image/signed-http";
import { settingsWithSourcesOf, withSettings, type CliIo } from "./settings-flags";
import { table } from "./admin-common";

/** The admin's credentials when the environment holds them (and --local was not given). */
export function remoteAdmin(cmd: Command, io: CliIo): ClientEnv | undefined {
  if (cmd.opts<{ local?: boolean }>().local) return undefined;
  const e = io.env;
  if (!(e.EC2_URL || e.AWS_ENDPOINT_URL_EC2) || !(e.AWS_ACCESS_KEY_ID || e.EC2_ACCESS_KEY)) return undefined;
  return clientEnv({ S3_URL: "-", ...e });
}

export const localOption = (cmd: Command) =>
  cmd.option("--local", "act on the data directory's state even when the admin's credentials are in the environment");

/** The items of an EC2 `…Set`/list element as fast-xml-parser gives them (none, one, or many). */
export function items<T>(v: unknown): T[] {
  const item = (v as { item?: T | T[] } | undefined)?.item;
  return item === undefined ? [] : Array.isArray(item) ? item : [item];
}

const propertyRows = (ps: PropertyView[]) =>
  table([
    ["NAME", "VALUE", "DEFAULT", "IN FORCE"],
    ...ps.map((p) => [p.name, p.value, p.defaultValue, p.changeable ? p.inForce : "(config file only)"]),
  ]);

export function addPropertyCommands(admin: Command, io: CliIo): void {
  const property = admin
    .command("property")
    .description(
      "the cloud's properties (its settings by their config-file names): list, get, set, reset — typed and checked as the command line checks them; with the admin's eucarc sourced, on the running CLC from any host",
    );
  /** The properties of a stopped cloud: a store over its config file. */
  const local = (cmd: Command) => {
    const { settings, given } = settingsWithSourcesOf(cmd, io);
    const configFile = cmd.opts<{ config?: string }>().config ?? io.env.EUCA_CONFIG;
    return createProperties(createSettingsStore({ values: settings, configFile, given }));
  };
  const remoteList = async (env: ClientEnv, prefix: string) =>
    items<Record<string, string>>((await ec2Call(env, "DescribeProperties", { Prefix: prefix })).properties).map(
      (p) =>
        ({
          name: p.name ?? "",
          value: p.value ?? "",
          defaultValue: p.defaultValue ?? "",
          description: p.description ?? "",
          changeable: p.changeable === "true",
          inForce: p.inForce ?? "",
        }) satisfies PropertyView,
    );

  const list = localOption(withSettings(new Command("list")))
    .description("list the properties (those whose name starts with PREFIX)")
    .argument("[prefix]", "e.g. VNET_ or WALRUS_", "");
  list.action(async (prefix: string) => {
    const env = remoteAdmin(list, io);
    io.out(propertyRows(env ? await remoteList(env, prefix) : local(list).list(prefix)));
  });
  property.addCommand(list);

  const get = localOption(withSettings(new Command("get")))
    .description("one property: its value, default, where a change is in force, and what it means")
    .argument("<name>");
  get.action(async (name: string) => {
    const env = remoteAdmin(get, io);
    const all = env ? await remoteList(env, name) : local(get).list(name);
    const p = all.find((x) => x.name === name.toUpperCase());
    if (!p) throw new Error(`no property ${name}: euca admin property list names them`);
    io.out(
      `${p.name}=${p.value}\n  default: ${p.defaultValue}\n  a change is in force: ${p.changeable ? p.inForce : "only from the config file"}\n  ${p.description}\n`,
    );
  });
  property.addCommand(get);

  const set = localOption(withSettings(new Command("set")))
    .description(
      "change a property: NAME=VALUE (says whether it is in force now or from which restart; nothing restarts by itself)",
    )
    .argument("<assignment>", "NAME=VALUE");
  set.action(async (assignment: string) => {
    const at = assignment.indexOf("=");
    if (at < 1) throw new Error("give NAME=VALUE");
    const [name, value] = [assignment.slice(0, at), assignment.slice(at + 1)];
    const env = remoteAdmin(set, io);
    const r = env
      ? ((await ec2Call(env, "ModifyPropertyValue", { Name: name, Value: value })) as Record<string, string>)
      : (() => {
          const x = local(set).set(name, value);
          return { name: x.property.name, value: x.property.value, inForce: x.inForce };
        })();
    io.out(`euca: ${r.name}=${r.value}; in force: ${r.inForce}\n`);
  });
  property.addCommand(set);

  const reset = localOption(withSettings(new Command("reset")))
    .description("put a property back to its default")
    .argument("<name>");
  reset.action(async (name: string) => {
    const env = remoteAdmin(reset, io);
    const r = env
      ? ((await ec2Call(env, "ModifyPropertyValue", { Name: name, Reset: "true" })) as Record<string, string>)
      : (() => {
          const x = local(reset).reset(name);
          return { name: x.property.name, value: x.property.value, inForce: x.inForce };
        })();
    io.out(`euca: ${r.name}=${r.value} (its default); in force: ${r.inForce}\n`);
  });
  property.addCommand(reset);
}

export function statusCommand(io: CliIo): Command {
  const cmd = new Command("status").description(
    "every component of the cloud as the CLC sees it now (Eucalyptus' describe-services): the CLC, Walrus, each cluster's CC and SC, each node — state, last contact, version, certificate expiry; needs the admin's eucarc sourced",
  );
  cmd.action(async () => {
    const env = remoteAdmin(cmd, io);
    if (!env) throw new Error("euca admin status asks the running CLC: source the admin's eucarc first");
    const rows = items<Record<string, string>>((await ec2Call(env, "DescribeServices", {})).serviceStatuses);
    io.out(
      table([
        ["TYPE", "NAME", "STATE", "LAST-CONTACT", "VERSION", "CERT-EXPIRES", "DETAIL"],
        ...rows.map((r) => [
          r.type ?? "",
          r.name ?? "",
          r.state ?? "",
          r.lastContact ?? "-",
          r.version ?? "-",
          r.certificateExpires?.slice(0, 10) ?? "-",
          r.detail ?? "",
        ]),
      ]),
    );
  });
  return cmd;
}
