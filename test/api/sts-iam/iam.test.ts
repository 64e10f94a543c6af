/**
 * IAM basics with Debian's awscli v2 at the EC2 endpoint (by credential scope) and at
 * /services/Euare: users of the caller's account, key rotation (at most two keys; an
 * inactive key refused everywhere), who may do what, and other accounts unseen.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { run } from "../../support/exec";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";

const AWS = "/usr/bin/aws";
type Creds = { accessKeyId: string; secretAccessKey: string };

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.stop());

const aws = async (c: Creds, ...args: string[]) => {
  const r = await run(AWS, ["--endpoint-url", t.ec2Url, "--output", "json", ...args], {
    env: {
      PATH: "/usr/bin:/bin",
      HOME: t.dataDir,
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_DEFAULT_REGION: "eucalyptus",
      AWS_MAX_ATTEMPTS: "1",
      AWS_ACCESS_KEY_ID: c.accessKeyId,
      AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    },
  });
  return {
    ok: r.status === 0,
    json: r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : undefined,
    err: r.stderr,
  };
};

describe.runIf(existsSync(AWS) || process.env.CI === "true")("IAM with Debian's awscli v2", () => {
  it("an account admin creates a user, who rotates its own keys; an inactive key is refused; at most two keys", async () => {
    const name = unique("iam");
    const made = await aws(t.admin, "iam", "create-user", "--user-name", name);
    expect(made.json.User).toMatchObject({
      UserName: name,
      Path: "/",
      Arn: expect.stringMatching(new RegExp(`:user/${name}$`)),
    });
    expect((await aws(t.admin, "iam", "list-users")).json.Users.map((u: { UserName: string }) => u.UserName)).toContain(
      name,
    );
    // The new user's first key, made by the admin; then the user rotates it itself.
    const first = (await aws(t.admin, "iam", "list-access-keys", "--user-name", name)).json.AccessKeyMetadata;
    expect(first).toHaveLength(1);
    const k2 = (await aws(t.admin, "iam", "create-access-key", "--user-name", name)).json.AccessKey;
    const user = { accessKeyId: k2.AccessKeyId, secretAccessKey: k2.SecretAccessKey };
    expect((await aws(user, "iam", "create-access-key")).err).toMatch(/LimitExceeded/);
    expect(
      (await aws(user, "iam", "update-access-key", "--access-key-id", first[0].AccessKeyId, "--status", "Inactive"))
        .err,
    ).toBe("");
    expect(
      (await aws(user, "iam", "list-access-keys")).json.AccessKeyMetadata.map((k: { Status: string }) => k.Status),
    ).toEqual(["Inactive", "Active"]);
    expect((await aws(user, "ec2", "describe-regions")).ok).toBe(true);
    expect((await aws(user, "iam", "delete-access-key", "--access-key-id", first[0].AccessKeyId)).err).toBe("");
    const k3 = (await aws(user, "iam", "create-access-key")).json.AccessKey;
    expect(
      (await aws(user, "iam", "update-access-key", "--access-key-id", k3.AccessKeyId, "--status", "Inactive")).err,
    ).toBe("");
    const inactive = { accessKeyId: k3.AccessKeyId, secretAccessKey: k3.SecretAccessKey };
    expect((await aws(inactive, "ec2", "describe-regions")).err).toMatch(/AuthFailure/);
    expect((await aws(inactive, "sts", "get-caller-identity")).err).toMatch(/InvalidClientTokenId/);
    expect((await aws(user, "iam", "get-user")).json.User.UserName).toBe(name);
  });

  it("a user who is no account admin cannot create users, sees only itself, and another account's users do not exist", async () => {
    const carol = await t.createUser(unique("carol")); // her own account; she is its admin
    const inAdminsAccount = unique("plain");
    await aws(t.admin, "iam", "create-user", "--user-name", inAdminsAccount);
    const k = (await aws(t.admin, "iam", "create-access-key", "--user-name", inAdminsAccount)).json.AccessKey;
    const plain = { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey };
    expect((await aws(plain, "iam", "create-user", "--user-name", unique("nope"))).err).toMatch(/AccessDenied/);
    expect((await aws(plain, "iam", "list-users")).json.Users.map((u: { UserName: string }) => u.UserName)).toEqual([
      inAdminsAccount,
    ]);
    expect((await aws(plain, "iam", "list-access-keys", "--user-name", "admin")).err).toMatch(/AccessDenied/);
    expect((await aws(carol, "iam", "get-user", "--user-name", "admin")).err).toMatch(/NoSuchEntity/);
    expect((await aws(carol, "iam", "list-users")).json.Users).toHaveLength(1);
    expect((await aws(carol, "iam", "list-account-aliases")).json.AccountAliases).toHaveLength(1);
  });

  it("a user is deleted only once its keys are, as in AWS; unknown IAM actions are InvalidAction", async () => {
    const name = unique("del");
    await aws(t.admin, "iam", "create-user", "--user-name", name);
    expect((await aws(t.admin, "iam", "delete-user", "--user-name", name)).err).toMatch(/DeleteConflict/);
    for (const key of (await aws(t.admin, "iam", "list-access-keys", "--user-name", name)).json.AccessKeyMetadata) {
      await aws(t.admin, "iam", "delete-access-key", "--user-name", name, "--access-key-id", key.AccessKeyId);
    }
    expect((await aws(t.admin, "iam", "delete-user", "--user-name", name)).err).toBe("");
    expect((await aws(t.admin, "iam", "get-user", "--user-name", name)).err).toMatch(/NoSuchEntity/);
    expect((await aws(t.admin, "iam", "list-groups")).err).toMatch(/InvalidAction/);
    expect((await aws(t.admin, "iam", "get-account-summary")).json.SummaryMap.AccessKeysPerUserQuota).toBe(2);
  });
});
