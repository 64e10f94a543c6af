import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { EC2Client, DescribeAvailabilityZonesCommand, DescribeRegionsCommand } from "@aws-sdk/client-ec2";
import { readEucarc, startEuca } from "../support/process";
import { tempDir } from "../support/cloud";

const freePorts = ["--ec2-port", "0", "--s3-port", "0"];

function ec2(url: string, vars: Record<string, string>) {
  return new EC2Client({
    endpoint: url,
    region: vars.AWS_DEFAULT_REGION!,
    credentials: { accessKeyId: vars.AWS_ACCESS_KEY_ID!, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY! },
    maxAttempts: 1,
  });
}

describe("the built euca as a process", () => {
  it("prints where the credentials are, a line to try, and one ready line; heartbeat is 200", async () => {
    const dir = tempDir();
    const p = await startEuca(["run", "--data-dir", dir, ...freePorts]);
    try {
      expect(p.stdout()).toContain(`admin credentials are in ${join(dir, "credentials/admin")}`);
      expect(p.stdout()).toContain("try: source ");
      expect(p.stdout().match(/^euca ready:/gm)).toHaveLength(1);
      const hb = await fetch(p.heartbeatUrl);
      expect(hb.status).toBe(200);
      expect(await hb.text()).toBe("clc=ready\ncc=ready\nnc=ready\nwalrus=ready\nsc=ready\n");
      const s3 = await fetch(`${p.s3Url}/no-such-bucket`);
      expect(s3.status).toBe(404);
      expect(await s3.text()).toContain("<Code>NoSuchBucket</Code>");
      expect(s3.headers.get("x-amz-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      p.child.kill("SIGTERM");
      expect((await p.exited).code).toBe(0);
    }
  });

  it("kill -9, restart: the same credentials still work and nothing is re-created", async () => {
    const dir = tempDir();
    const first = await startEuca(["run", "--data-dir", dir, ...freePorts]);
    const vars = readEucarc(join(dir, "credentials/admin/eucarc"));
    expect((await ec2(first.ec2Url, vars).send(new DescribeRegionsCommand({}))).Regions).toHaveLength(4);
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    const second = await startEuca(["run", "--data-dir", dir, ...freePorts]);
    try {
      const after = readEucarc(join(dir, "credentials/admin/eucarc"));
      expect(after.AWS_ACCESS_KEY_ID).toBe(vars.AWS_ACCESS_KEY_ID);
      expect(after.EC2_CERT).toBe(vars.EC2_CERT);
      expect(after.EC2_URL).toBe(second.ec2Url); // refreshed for the new port
      const zones = await ec2(second.ec2Url, vars).send(new DescribeAvailabilityZonesCommand({}));
      expect(zones.AvailabilityZones?.[0]?.ZoneName).toBe("cluster1");
    } finally {
      second.child.kill("SIGTERM");
      expect((await second.exited).code).toBe(0);
    }
  });

  it("two clouds run side by side on one machine", async () => {
    const [a, b] = await Promise.all([
      startEuca(["run", "--data-dir", tempDir(), ...freePorts]),
      startEuca(["run", "--data-dir", tempDir(), ...freePorts, "--cluster-name", "other-zone"]),
    ]);
    try {
      expect(a.ec2Url).not.toBe(b.ec2Url);
      expect((await fetch(a.heartbeatUrl)).status).toBe(200);
      expect((await fetch(b.heartbeatUrl)).status).toBe(200);
    } finally {
      a.child.kill("SIGINT");
      b.child.kill("SIGTERM");
      expect((await a.exited).code).toBe(0);
      expect((await b.exited).code).toBe(0);
    }
  });

  it("refuses a data directory written by a newer euca, with a clear message", async () => {
    const dir = tempDir();
    const p = await startEuca(["run", "--data-dir", dir, ...freePorts]);
    p.child.kill("SIGTERM");
    await p.exited;
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(join(dir, "clc.db"));
    db.pragma("user_version = 99");
    db.close();
    await expect(startEuca(["run", "--data-dir", dir, ...freePorts])).rejects.toThrow(
      /exited with 1[\s\S]*schema version 99, newer than this euca/,
    );
  });

  it("a port in use is a clear error", async () => {
    const a = await startEuca(["run", "--data-dir", tempDir(), ...freePorts]);
    try {
      const port = new URL(a.ec2Url).port;
      await expect(startEuca(["run", "--data-dir", tempDir(), "--ec2-port", port, "--s3-port", "0"])).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      a.child.kill("SIGTERM");
      await a.exited;
    }
  });
});
