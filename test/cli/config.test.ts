import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveSettings, parseConfigFile } from "../../src/config/resolve";
import { ConfigError } from "../../src/config/settings";
import { tempDir } from "../support/cloud";

describe("settings precedence: flags > EUCA_* > config file > defaults", () => {
  const file = join(tempDir(), "euca.conf");
  writeFileSync(
    file,
    `# site config\nEC2_PORT=9001\nS3_PORT="9002"\nROLE=clc,walrus\nHOST=127.0.0.2 # comment\nLOG_LEVEL='debug'\n`,
  );

  it("defaults", () => {
    const s = resolveSettings({ flags: {}, env: {} });
    expect(s).toMatchObject({
      roles: ["clc", "cc", "nc", "walrus", "sc"],
      host: "127.0.0.1",
      ec2Port: 8773,
      s3Port: 8776,
      webPort: 8443,
      hypervisor: "auto",
      logLevel: "info",
      region: "eucalyptus",
    });
  });

  it("config file over defaults, env over file, flags over env", () => {
    expect(resolveSettings({ flags: { config: file }, env: {} })).toMatchObject({
      ec2Port: 9001,
      s3Port: 9002,
      roles: ["clc", "walrus"],
      host: "127.0.0.2",
      logLevel: "debug",
    });
    expect(resolveSettings({ flags: {}, env: { EUCA_CONFIG: file, EUCA_EC2_PORT: "9100" } })).toMatchObject({
      ec2Port: 9100,
      s3Port: 9002,
    });
    expect(resolveSettings({ flags: { config: file, ec2Port: "9200" }, env: { EUCA_EC2_PORT: "9100" } })).toMatchObject(
      { ec2Port: 9200 },
    );
  });

  it("refuses unknown roles, keys and values with the valid ones listed", () => {
    expect(() => resolveSettings({ flags: { roles: "clc,mars" }, env: {} })).toThrow(
      /unknown role 'mars'.*clc, cc, nc, walrus, sc/,
    );
    expect(() => resolveSettings({ flags: { roles: "all,clc" }, env: {} })).toThrow(ConfigError);
    expect(() => resolveSettings({ flags: { hypervisor: "vmware" }, env: {} })).toThrow(
      /valid hypervisors: auto, xen, qemu, fake/,
    );
    expect(() => resolveSettings({ flags: {}, env: { EUCA_EC2_PORT: "70000" } })).toThrow(/EUCA_EC2_PORT/);
    expect(() => parseConfigFile("NOT_A_SETTING=1\n", "f")).toThrow(
      /unknown setting NOT_A_SETTING; valid settings: ROLE, DATA_DIR/,
    );
    expect(() => parseConfigFile("just words\n", "f")).toThrow(/f:1: expected KEY=value/);
  });
});
