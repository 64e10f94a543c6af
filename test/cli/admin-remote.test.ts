/**
 * `euca admin` against the running CLC's signed admin actions, with the admin's eucarc in
 * the environment: properties listed, a live one set (in force at once, checked through
 * EC2) and reset, a restart-only one set (it says so); a non-admin's credentials refused.
 * (`euca admin status` with a component stopped is in test/roles/site-join.test.ts; `euca admin
 * network` of a running MANAGED CC in test/e2e/managed-network.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeAccountAttributesCommand } from "@aws-sdk/client-ec2";
import { main } from "../../src/cli/program";
import { startTestCloud, tempDir, unique, type TestCloud } from "../support/cloud";
import { eucarcEnv } from "../support/process";
import { ec2Client } from "../support/ec2";

let t: TestCloud;
let configFile: string;
let adminEnv: Record<string, string>;

async function cli(args: string[], env: Record<string, string>) {
  let out = "";
  let err = "";
  const code = await main(args, { env, out: (x) => (out += x), err: (x) => (err += x) });
  return { code, out, err };
}

beforeAll(async () => {
  const dir = tempDir();
  configFile = join(dir, "euca.conf");
  writeFileSync(configFile, "# the head's config file\nREGION=eucalyptus\n");
  t = await startTestCloud({ dataDir: join(dir, "data"), configFile });
  adminEnv = eucarcEnv(join(t.dataDir, "credentials", "admin"));
});
afterAll(() => t.stop());

describe("euca admin network, remotely", () => {
  it("asks the running CC through the CLC: ROOTLESS has no cluster network; an unknown cluster is named", async () => {
    const r = await cli(["admin", "network"], adminEnv);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/UnsupportedOperation: .*VNET_MODE ROOTLESS/);
    const other = await cli(["admin", "network", "--cluster", "zone-x"], adminEnv);
    expect(other.err).toMatch(/InvalidParameterValue: No cluster is named zone-x \(clusters: cluster1\)/);
  });
});

describe("euca admin property, remotely", () => {
  it("lists properties by prefix, with defaults and where a change is in force", async () => {
    const r = await cli(["admin", "property", "list", "MAX_ADDRESSES"], adminEnv);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^NAME\s+VALUE\s+DEFAULT\s+IN FORCE$/m);
    expect(r.out).toMatch(/^MAX_ADDRESSES_PER_USER\s+5\s+5\s+now$/m);
    const get = await cli(["admin", "property", "get", "vnet_mode"], adminEnv);
    expect(get.out).toMatch(/^VNET_MODE=ROOTLESS$/m);
    expect(get.out).toMatch(/a change is in force: next start of the head and of every host/);
  });

  it("a live property is in force at once (EC2 says so), kept in the config file, and resets", async () => {
    const set = await cli(["admin", "property", "set", "MAX_ADDRESSES_PER_USER=9"], adminEnv);
    expect(set.out).toBe("euca: MAX_ADDRESSES_PER_USER=9; in force: now\n");
    expect(readFileSync(configFile, "utf8")).toMatch(/^MAX_ADDRESSES_PER_USER=9$/m);
    const attrs = await ec2Client(t.ec2Url, t.admin).send(
      new DescribeAccountAttributesCommand({ AttributeNames: ["max-elastic-ips" as never] }),
    );
    expect(attrs.AccountAttributes?.[0]?.AttributeValues?.[0]?.AttributeValue).toBe("9");
    const reset = await cli(["admin", "property", "reset", "MAX_ADDRESSES_PER_USER"], adminEnv);
    expect(reset.out).toBe("euca: MAX_ADDRESSES_PER_USER=5 (its default); in force: now\n");
    expect(readFileSync(configFile, "utf8")).not.toMatch(/MAX_ADDRESSES_PER_USER/);
  });

  it("a restart-only property says so; a bad value is refused with the parser's reason", async () => {
    const set = await cli(["admin", "property", "set", "NODE_DOWN_SECONDS=120"], adminEnv);
    expect(set.out).toMatch(/^euca: NODE_DOWN_SECONDS=120; in force: next start of the head and of every host/);
    const bad = await cli(["admin", "property", "set", "NODE_DOWN_SECONDS=soon"], adminEnv);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/InvalidParameterValue/);
    const unknown = await cli(["admin", "property", "set", "NO_SUCH=1"], adminEnv);
    expect(unknown.err).toMatch(/No property NO_SUCH/);
  });

  it("users and VM types, remotely", async () => {
    const name = unique("carol");
    const made = await cli(["admin", "user", "create", name, "--admin"], adminEnv);
    expect(made.out).toMatch(
      new RegExp(`^euca: created user ${name} \\(account \\d{12}, admin\\); credentials in \\S+ on the head$`, "m"),
    );
    expect((await cli(["admin", "user", "list"], adminEnv)).out).toMatch(
      new RegExp(`^${name}\\s+${name}\\s+\\d{12}\\s+yes\\s+yes\\s`, "m"),
    );
    expect((await cli(["admin", "user", "delete", name], adminEnv)).code).toBe(0);
    expect((await cli(["admin", "user", "list"], adminEnv)).out).not.toContain(name);

    const set = await cli(
      ["admin", "vm-types", "set", "m1.small", "--cpus", "2", "--memory", "512", "--disk", "6"],
      adminEnv,
    );
    expect(set.out).toBe("euca: vm type m1.small: 2 cpus, 512 MB, 6 GB\n");
    expect((await cli(["admin", "vm-types", "list"], adminEnv)).out).toMatch(/^m1\.small\s+2\s+512\s+6$/m);
  });

  it("a non-admin's credentials are refused", async () => {
    const name = unique("bob");
    await t.createUser(name);
    const bobEnv = eucarcEnv(join(t.dataDir, "credentials", name));
    for (const args of [
      ["admin", "property", "list"],
      ["admin", "status"],
      ["admin", "cluster", "add", "zone-x"],
      ["admin", "vm-types", "list"],
      ["admin", "user", "list"],
      ["admin", "network"],
    ]) {
      const r = await cli(args, bobEnv);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.err).toMatch(/UnauthorizedOperation/);
    }
  });
});
