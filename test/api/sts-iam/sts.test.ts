/**
 * STS as tools use it: Debian's awscli v2 and boto3 ask who they are and get session
 * credentials, at the EC2 endpoint (chosen by the credential scope) and at
 * /services/Tokens; the session credentials then work at EC2 and S3 with their token,
 * and not without it, tampered, expired, from another cloud, or once their user is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { run } from "../../support/exec";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { errorCode, formEncode, post, sigV4Headers } from "../../support/query-client";
import { signV4 } from "../../../src/auth/sigv4";

const AWS = "/usr/bin/aws";
const PYTHON = "/usr/bin/python3";
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

let now = Date.now();
const clock = { now: () => new Date(now) };
let t: TestCloud;
let other: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ clock });
  other = await startTestCloud();
});
afterAll(async () => {
  await t.stop();
  await other.stop();
});

function env(c: Creds): NodeJS.ProcessEnv {
  return {
    PATH: "/usr/bin:/bin",
    HOME: t.dataDir,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_DEFAULT_REGION: "eucalyptus",
    AWS_MAX_ATTEMPTS: "1",
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}),
  };
}
const aws = async (c: Creds, endpoint: string, ...args: string[]) => {
  const r = await run(AWS, ["--endpoint-url", endpoint, "--output", "json", ...args], { env: env(c) });
  return {
    ok: r.status === 0,
    json: r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : undefined,
    err: r.stderr,
  };
};

/** A Query request signed for `service` by hand (the admin's key). */
function signedQuery(service: "sts" | "iam", params: Record<string, string>, url = t.ec2Url) {
  const u = new URL(url);
  const body = formEncode(params);
  const h = signV4({
    method: "POST",
    rawPath: u.pathname,
    headers: { host: u.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body,
    accessKeyId: t.admin.accessKeyId,
    secret: t.admin.secretAccessKey,
    region: "eucalyptus",
    service,
    now: clock.now(),
    doubleEncodePath: true,
  });
  delete h.host;
  return post(url, body, h);
}

async function session(c: Creds, seconds = 900): Promise<Creds> {
  const r = await aws(c, t.ec2Url, "sts", "get-session-token", "--duration-seconds", String(seconds));
  expect(r.err).toBe("");
  const k = r.json.Credentials;
  return { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey, sessionToken: k.SessionToken };
}

describe.runIf(existsSync(AWS) || process.env.CI === "true")("STS with Debian's awscli v2", () => {
  it("GetCallerIdentity at the EC2 endpoint and at /services/Tokens", async () => {
    const user = await t.createUser(unique("sts"));
    const account = t.cloud.identity!.principal(user.accessKeyId)!.accountId;
    for (const endpoint of [t.ec2Url, `${new URL(t.ec2Url).origin}/services/Tokens`]) {
      const r = await aws(user, endpoint, "sts", "get-caller-identity");
      expect(r.err).toBe("");
      expect(r.json).toMatchObject({
        Account: account,
        Arn: expect.stringMatching(new RegExp(`^arn:aws:iam::${account}:user/sts`)),
      });
    }
  });

  it("session credentials work at EC2 and S3 with their token, and say who they are", async () => {
    const user = await t.createUser(unique("sess"));
    const s = await session(user);
    expect(s.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect((await aws(s, t.ec2Url, "ec2", "describe-availability-zones")).ok).toBe(true);
    const bucket = unique("sess-bucket").toLowerCase();
    expect((await aws(s, t.cloud.endpoints.s3Url, "s3api", "create-bucket", "--bucket", bucket)).err).toBe("");
    expect(
      (await aws(s, t.cloud.endpoints.s3Url, "s3api", "list-buckets")).json.Buckets.map(
        (b: { Name: string }) => b.Name,
      ),
    ).toContain(bucket);
    expect((await aws(s, t.ec2Url, "sts", "get-caller-identity")).json.Arn).toMatch(/user\/sess/);
    // Session credentials cannot make more of themselves, nor call IAM, as in AWS (without MFA).
    expect((await aws(s, t.ec2Url, "sts", "get-session-token")).err).toMatch(/AccessDenied/);
    expect((await aws(s, t.ec2Url, "iam", "create-access-key")).err).toMatch(/AccessDenied/);
  });

  it("are refused without their token, with a tampered one, from another cloud, and after their user is deleted", async () => {
    const name = unique("gone");
    const user = await t.createUser(name);
    const s = await session(user);
    expect((await aws({ ...s, sessionToken: undefined }, t.ec2Url, "ec2", "describe-regions")).err).toMatch(
      /AuthFailure/,
    );
    expect(
      (await aws({ ...s, sessionToken: `${s.sessionToken!.slice(0, -4)}AAAA` }, t.ec2Url, "ec2", "describe-regions"))
        .err,
    ).toMatch(/AuthFailure/);
    const foreign = await aws(other.admin, other.ec2Url, "sts", "get-session-token");
    const fc = foreign.json.Credentials;
    expect(
      (
        await aws(
          { accessKeyId: fc.AccessKeyId, secretAccessKey: fc.SecretAccessKey, sessionToken: fc.SessionToken },
          t.ec2Url,
          "ec2",
          "describe-regions",
        )
      ).err,
    ).toMatch(/AuthFailure/);
    expect((await aws(s, t.cloud.endpoints.s3Url, "s3api", "list-buckets", "--no-sign-request")).ok).toBe(false);
    t.cloud.identity!.deleteUser(name);
    expect((await aws(s, t.ec2Url, "ec2", "describe-regions")).err).toMatch(/AuthFailure/);
  });

  it("expire: DurationSeconds is bounded, and a session is refused once it has run out", async () => {
    // awscli checks the bounds itself; signed by hand, the server's answer shows.
    for (const seconds of ["899", "129601", "12h"]) {
      const r = await signedQuery("sts", {
        Action: "GetSessionToken",
        Version: "2011-06-15",
        DurationSeconds: seconds,
      });
      expect([seconds, r.status, errorCode(r.body)]).toEqual([seconds, 400, "ValidationError"]);
    }
    const s = await session(t.admin, 900);
    now += 901_000; // the server's clock moves on; this request is signed at that time
    const body = formEncode({ Action: "DescribeRegions", Version: "2016-11-15" });
    const headers = { ...sigV4Headers(t.ec2Url, s, body, clock.now()), "x-amz-security-token": s.sessionToken! };
    const r = await post(t.ec2Url, body, headers);
    expect([r.status, errorCode(r.body)]).toEqual([401, "AuthFailure"]);
    now = Date.now();
  });

  it("IAM requests get IAM's envelope at /services/Euare; unknown actions its InvalidAction", async () => {
    const raw = await signedQuery(
      "iam",
      { Action: "ListGroups", Version: "2010-05-08" },
      `${new URL(t.ec2Url).origin}/services/Euare`,
    );
    expect(raw.status).toBe(400);
    expect(raw.body).toMatch(
      /^<\?xml[^>]*>\s*<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/,
    );
  });
});

describe.runIf(existsSync(PYTHON) || process.env.CI === "true")("STS and IAM with boto3", () => {
  it("get_caller_identity and get_user at the EC2 endpoint and at /services/Tokens and /services/Euare", async () => {
    const script = `import boto3, os, json
base = os.environ["ORIGIN"]
out = []
for sts_url, iam_url in [(os.environ["EC2_URL"], os.environ["EC2_URL"]), (base + "/services/Tokens", base + "/services/Euare")]:
    sts = boto3.client("sts", endpoint_url=sts_url, region_name="eucalyptus")
    iam = boto3.client("iam", endpoint_url=iam_url, region_name="eucalyptus")
    out.append([sts.get_caller_identity()["Account"], iam.get_user()["User"]["UserName"]])
print(json.dumps(out))`;
    const r = await run(PYTHON, ["-c", script], {
      env: { ...env(t.admin), EC2_URL: t.ec2Url, ORIGIN: new URL(t.ec2Url).origin },
    });
    expect(r.stderr).toBe("");
    const account = t.cloud.identity!.principal(t.admin.accessKeyId)!.accountId;
    expect(JSON.parse(r.stdout)).toEqual([
      [account, "admin"],
      [account, "admin"],
    ]);
  });
});
