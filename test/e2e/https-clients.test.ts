/**
 * A head listening on a site address speaks HTTPS to its users by default (TLS=auto), with a
 * certificate from the cloud CA: Debian's awscli, boto3, s3cmd and rclone and euca's own CLI,
 * run in another namespace and trusting only the cloud-cert.pem of the admin's credentials,
 * reach EC2, STS and S3; without it they refuse the server; plain HTTP to the same port is
 * told to use HTTPS, save the heartbeat (and guests' metadata); `euca doctor` on the head
 * takes the ports the running cloud holds as its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes, createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { canNetns, Namespaces } from "../support/netns";
import { BUNDLE, eucarcEnv, startEuca, type EucaProcess } from "../support/process";

const AWS = "/usr/bin/aws";
const PYTHON = "/usr/bin/python3";
const BOTO3_S3 = new URL("../support/clients/boto3_s3.py", import.meta.url).pathname;
const HEAD = "10.77.0.1";

describe.runIf(canNetns() || process.env.CI === "true")("HTTPS for users on a site address (TLS=auto)", () => {
  const nss = new Namespaces("ehs");
  const dir = tempDir("euca-https-");
  const file = join(dir, "nine-mib.bin");
  let p: EucaProcess;
  let env: Record<string, string>;
  let ca = "";

  /** A command in the users' namespace with the admin's eucarc sourced (and `extra` over it). */
  const asUser = (cmd: string, args: string[], extra: Record<string, string | undefined> = {}) =>
    run("ip", ["netns", "exec", nss.name("user"), cmd, ...args], {
      env: { PATH: "/usr/bin:/bin", HOME: dir, AWS_CONFIG_FILE: "/dev/null", AWS_PAGER: "", ...env, ...extra },
      timeoutMs: 120_000,
    });
  const ok = async (cmd: string, args: string[], extra: Record<string, string | undefined> = {}) => {
    const r = await asUser(cmd, args, extra);
    expect(r.status, `${cmd} ${args.join(" ")}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    nss.add("head", "user");
    nss.wire("head", "eth0", `${HEAD}/24`, "user", "eth0", "10.77.0.2/24");
    p = await startEuca(
      ["run", "--role", "all", "--data-dir", join(dir, "d"), "--host", HEAD, "--hypervisor", "fake"],
      { EUCA_TLS: "auto", EUCA_EC2_PORT: "8773", EUCA_S3_PORT: "8776" },
      { netns: nss.name("head") },
    );
    const credDir = join(dir, "d", "credentials", "admin");
    env = { ...eucarcEnv(credDir), AWS_DEFAULT_REGION: "eucalyptus", AWS_MAX_ATTEMPTS: "1" };
    ca = env.AWS_CA_BUNDLE!;
    writeFileSync(file, randomBytes(9 * 1024 * 1024)); // above boto3's and awscli's multipart thresholds
  }, 60_000);

  afterAll(async () => {
    p?.child.kill("SIGTERM");
    await p?.exited;
    nss.cleanup();
  });

  it("the ready line and the credentials name https endpoints, the heartbeat plain HTTP", () => {
    expect(p.ec2Url).toBe(`https://${HEAD}:8773/services/Eucalyptus`);
    expect(p.s3Url).toBe(`https://${HEAD}:8776`);
    expect(p.heartbeatUrl).toBe(`http://${HEAD}:8773/services/Heartbeat`);
    expect(env.EC2_URL).toBe(p.ec2Url);
    expect(ca).toBe(join(dir, "d", "credentials", "admin", "cloud-cert.pem"));
  });

  it("awscli trusting only the cloud CA: EC2, STS, S3 (multipart); without it, certificate verify failed", async () => {
    const zones = JSON.parse(
      await ok(AWS, ["--endpoint-url", env.EC2_URL!, "--output", "json", "ec2", "describe-availability-zones"]),
    );
    expect(zones.AvailabilityZones.map((z: { ZoneName: string }) => z.ZoneName)).toEqual(["cluster1"]);
    const me = JSON.parse(
      await ok(AWS, ["--endpoint-url", env.TOKEN_URL!, "--output", "json", "sts", "get-caller-identity"]),
    );
    expect(me.Arn).toMatch(/:user\/admin$/);
    await ok(AWS, ["--endpoint-url", env.S3_URL!, "s3", "mb", "s3://tls-awscli"]);
    await ok(AWS, ["--endpoint-url", env.S3_URL!, "s3", "cp", "--no-progress", file, "s3://tls-awscli/f"]);
    expect(await ok(AWS, ["--endpoint-url", env.S3_URL!, "s3", "ls", "s3://tls-awscli"])).toMatch(/9437184 f/);
    const refused = await asUser(AWS, ["--endpoint-url", env.EC2_URL!, "ec2", "describe-regions"], {
      AWS_CA_BUNDLE: undefined,
    });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/CERTIFICATE_VERIFY_FAILED|SSL validation failed/);
  });

  it("boto3 (AWS_CA_BUNDLE): mb, multipart put, ls, get, rm, rb", async () => {
    const out = join(dir, "boto3-back.bin");
    const r = JSON.parse(await ok(PYTHON, [BOTO3_S3, "tls-boto3", file, out]));
    expect(r.size).toBe(9437184);
    expect(createHash("md5").update(readFileSync(out)).digest("hex")).toBe(
      createHash("md5").update(readFileSync(file)).digest("hex"),
    );
  });

  it("s3cmd with ca_certs_file = cloud-cert.pem, checking the certificate and its host name", async () => {
    const cfg = join(dir, "s3cfg");
    const host = new URL(env.S3_URL!).host;
    writeFileSync(
      cfg,
      [
        "[default]",
        `access_key = ${env.AWS_ACCESS_KEY_ID}`,
        `secret_key = ${env.AWS_SECRET_ACCESS_KEY}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        "use_https = True",
        `ca_certs_file = ${ca}`,
        "check_ssl_certificate = True",
        "check_ssl_hostname = True",
        "bucket_location = us-east-1",
        "",
      ].join("\n"),
    );
    const s3cmd = (...args: string[]) => ok("/usr/bin/s3cmd", ["-c", cfg, "--no-progress", ...args]);
    await s3cmd("mb", "s3://tls-s3cmd");
    await s3cmd("put", file, "s3://tls-s3cmd/f");
    expect(await s3cmd("ls", "s3://tls-s3cmd")).toMatch(/9437184\s+s3:\/\/tls-s3cmd\/f/);
    await s3cmd("rm", "s3://tls-s3cmd/f");
    await s3cmd("rb", "s3://tls-s3cmd");
  });

  it("rclone with --ca-cert cloud-cert.pem: mkdir, copy, ls, cat", async () => {
    const remote = {
      RCLONE_CONFIG_EUCA_TYPE: "s3",
      RCLONE_CONFIG_EUCA_PROVIDER: "Other",
      RCLONE_CONFIG_EUCA_ENDPOINT: env.S3_URL!,
      RCLONE_CONFIG_EUCA_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID!,
      RCLONE_CONFIG_EUCA_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY!,
      RCLONE_CONFIG_EUCA_REGION: "us-east-1",
      RCLONE_CONFIG_EUCA_FORCE_PATH_STYLE: "true",
      // rclone's AWS SDK cannot use AWS_CA_BUNDLE with rclone's own transport (LoadCustomCABundleError): --ca-cert instead.
      AWS_CA_BUNDLE: undefined,
    };
    const rclone = (...args: string[]) =>
      ok("/usr/bin/rclone", ["--config", "/dev/null", "--ca-cert", ca, ...args], remote);
    await rclone("mkdir", "euca:tls-rclone");
    await rclone("copyto", file, "euca:tls-rclone/f");
    expect(await rclone("ls", "euca:tls-rclone")).toMatch(/9437184 f/);
    writeFileSync(join(dir, "small.txt"), "hello over TLS");
    await rclone("copyto", join(dir, "small.txt"), "euca:tls-rclone/small.txt");
    expect(await rclone("cat", "euca:tls-rclone/small.txt")).toBe("hello over TLS");
  });

  it("euca's own CLI from the users' namespace (admin status over HTTPS with AWS_CA_BUNDLE)", async () => {
    const out = await ok(process.execPath, [BUNDLE, "admin", "status"]);
    expect(out).toMatch(/^clc\s+clc\s+available\s/m);
    expect(out).toMatch(/^walrus\s+walrus\s+available\s/m);
  });

  it("plain HTTP to the API is told to use HTTPS, not served; the heartbeat answers in plain HTTP", async () => {
    const plain = await ok("curl", [
      "-sS",
      "-m",
      "5",
      "-w",
      "%{http_code}",
      "-d",
      "Action=DescribeRegions",
      `http://${HEAD}:8773/services/Eucalyptus`,
    ]);
    expect(plain).toBe(`This endpoint speaks HTTPS: use https://${HEAD}:8773/services/Eucalyptus\n400`);
    const s3 = await ok("curl", ["-sS", "-m", "5", `http://${HEAD}:8776/bucket/key`]);
    expect(s3).toBe(`This endpoint speaks HTTPS: use https://${HEAD}:8776/bucket/key\n`);
    expect(await ok("curl", ["-sS", "-m", "5", p.heartbeatUrl])).toContain("clc=ready");
  });

  it("euca doctor on the head: the running cloud's ports are its own (its heartbeat answers in plain HTTP)", async () => {
    const r = await run(
      "ip",
      ["netns", "exec", nss.name("head"), process.execPath, BUNDLE, "doctor", "--role", "clc,walrus"],
      { env: { PATH: process.env.PATH, HOME: dir, EUCA_DATA_DIR: join(dir, "d"), EUCA_HOST: HEAD } },
    );
    for (const port of ["ec2", "s3"])
      expect(r.stdout).toMatch(new RegExp(`PASS\\s+port\\.${port}\\s.*held by this host's running euca`));
  });
});
