/**
 * Debian's awscli v2, boto3 and boto 2 (default SigV4 and forced SigV2), unmodified,
 * against a cloud on a real port. Uses /usr/bin/aws and /usr/bin/python3: other
 * copies on PATH are other versions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { run } from "../support/exec";
import { existsSync } from "node:fs";
import { EXPECTED_VERBOSE, VERBOSE_NODE, startTestCloud, type TestCloud } from "../support/cloud";

const AWS = "/usr/bin/aws";
const PYTHON = "/usr/bin/python3";
const PROBE = new URL("../support/clients/boto_probe.py", import.meta.url).pathname;
const hasAws = existsSync(AWS);
const hasBoto = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import boto3, boto"]).status === 0;

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.stop());

function env(secret = t.admin.secretAccessKey): NodeJS.ProcessEnv {
  return {
    PATH: "/usr/bin:/bin",
    HOME: t.dataDir,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_ACCESS_KEY_ID: t.admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_DEFAULT_REGION: "eucalyptus",
    AWS_MAX_ATTEMPTS: "1",
    EC2_URL: t.ec2Url,
  };
}

describe.skipIf(!hasAws)("Debian awscli v2", () => {
  const aws = (args: string[], secret?: string) =>
    run(AWS, ["--endpoint-url", t.ec2Url, "--output", "json", ...args], { env: env(secret) });

  it("describe-regions and describe-availability-zones", async () => {
    const regions = JSON.parse((await aws(["ec2", "describe-regions"])).stdout);
    expect(regions.Regions.map((r: { RegionName: string }) => r.RegionName)).toEqual([
      "eucalyptus",
      "Walrus",
      "Tokens",
      "Euare",
    ]);
    const zones = JSON.parse((await aws(["ec2", "describe-availability-zones"])).stdout);
    expect(zones.AvailabilityZones).toEqual([
      {
        State: "available",
        Messages: [],
        RegionName: "eucalyptus",
        ZoneName: "cluster1",
        ZoneId: "cluster1",
        ZoneType: "availability-zone",
      },
    ]);
    const verbose = JSON.parse((await aws(["ec2", "describe-availability-zones", "--zone-names", "verbose"])).stdout);
    expect(verbose.AvailabilityZones.map((z: { ZoneName: string; State: string }) => [z.ZoneName, z.State])).toEqual([
      ...EXPECTED_VERBOSE,
      [VERBOSE_NODE[0], expect.stringMatching(VERBOSE_NODE[1])],
    ]);
  });

  it("a wrongly signed call fails with AuthFailure", async () => {
    const r = await aws(["ec2", "describe-regions"], "wrong");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("(AuthFailure)");
  });

  it("works after `source eucarc` exactly as the README says", async () => {
    const eucarc = t.cloud.adminCredentials!.eucarc;
    const r = await run(
      "/bin/bash",
      ["-c", `source '${eucarc}' && ${AWS} --endpoint-url "$EC2_URL" ec2 describe-availability-zones --output text`],
      {
        env: {
          PATH: "/usr/bin:/bin",
          HOME: t.dataDir,
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
      },
    );
    expect(r.stdout).toContain("cluster1");
  });
});

describe.skipIf(!hasBoto)("Debian boto3 and boto 2", () => {
  for (const mode of ["boto3", "boto2-sigv4", "boto2-sigv2"]) {
    it(`${mode}: DescribeRegions, DescribeAvailabilityZones (plain and verbose), wrong signature`, async () => {
      const r = await run(PYTHON, [PROBE, mode], { env: env() });
      expect(r.stderr).not.toMatch(/Traceback/);
      const out = JSON.parse(r.stdout);
      expect(out.regions).toEqual(["eucalyptus", "Walrus", "Tokens", "Euare"]);
      expect(out.zones).toEqual([["cluster1", "available"]]);
      expect(out.verbose).toEqual([...EXPECTED_VERBOSE, [VERBOSE_NODE[0], expect.stringMatching(VERBOSE_NODE[1])]]);
      expect(out.bad).toEqual(["AuthFailure", 401]);
      const seen = t
        .logs()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e) => e.api === "ec2" && e.status === 200);
      expect(seen.some((e) => e.sigv === (mode === "boto2-sigv2" ? "2" : "4"))).toBe(true);
    });
  }
});
