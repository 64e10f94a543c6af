import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateKeyPairCommand,
  ImportKeyPairCommand,
  DescribeKeyPairsCommand,
  DeleteKeyPairCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  AuthorizeSecurityGroupIngressCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { startTestCloud, tempDir, unique, type TestCloud } from "../../support/cloud";
import { errorCode, formEncode, post, sigV4Headers } from "../../support/query-client";
import { ec2Client } from "../../support/ec2";

let t: TestCloud;
let alice: { accessKeyId: string; secretAccessKey: string };
const ec2 = (creds = t.admin) => ec2Client(t.ec2Url, creds);
const hasSshKeygen = existsSync("/usr/bin/ssh-keygen") && existsSync("/usr/bin/openssl");

beforeAll(async () => {
  t = await startTestCloud();
  alice = await t.createUser(unique("alice"));
});
afterAll(() => t.stop());

async function expectCode(p: Promise<unknown>, code: string) {
  await expect(p).rejects.toMatchObject({ name: code });
}

describe("key pairs", () => {
  it("CreateKeyPair: RSA 2048 PEM whose fingerprint is the SHA-1 of its PKCS#8 form", async () => {
    const name = unique("kp");
    const k = await ec2().send(new CreateKeyPairCommand({ KeyName: name }));
    expect(k.KeyMaterial).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const priv = createPrivateKey(k.KeyMaterial!);
    expect(priv.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const sha1 = createHash("sha1")
      .update(priv.export({ format: "der", type: "pkcs8" }))
      .digest("hex")
      .match(/../g)!
      .join(":");
    expect(k.KeyFingerprint).toBe(sha1);
    expect(k.KeyPairId).toMatch(/^key-/);
    await expectCode(ec2().send(new CreateKeyPairCommand({ KeyName: name })), "InvalidKeyPair.Duplicate");
    const ed = await ec2().send(new CreateKeyPairCommand({ KeyName: unique("ed"), KeyType: "ed25519" }));
    expect(ed.KeyMaterial).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it.skipIf(!hasSshKeygen)(
    "ImportKeyPair: ssh-rsa (MD5 of the DER public key) and ssh-ed25519 (base64 SHA-256), as ssh-keygen/openssl compute them",
    async () => {
      const dir = tempDir();
      execFileSync("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", join(dir, "rsa")]);
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "ed")]);
      const rsaPub = readFileSync(join(dir, "rsa.pub"));
      const spki = execFileSync("ssh-keygen", ["-e", "-f", join(dir, "rsa.pub"), "-m", "pkcs8"]);
      writeFileSync(join(dir, "rsa.pem"), spki);
      const der = execFileSync("openssl", ["pkey", "-pubin", "-in", join(dir, "rsa.pem"), "-outform", "der"]);
      const expectedRsa = createHash("md5").update(der).digest("hex").match(/../g)!.join(":");
      const rsa = await ec2().send(new ImportKeyPairCommand({ KeyName: unique("imp-rsa"), PublicKeyMaterial: rsaPub }));
      expect(rsa.KeyFingerprint).toBe(expectedRsa);
      const ed = await ec2().send(
        new ImportKeyPairCommand({ KeyName: unique("imp-ed"), PublicKeyMaterial: readFileSync(join(dir, "ed.pub")) }),
      );
      const sshFp = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "ed.pub")], { encoding: "utf8" })
        .split(" ")[1]!
        .replace(/^SHA256:/, "");
      expect(ed.KeyFingerprint!.replace(/=+$/, "")).toBe(sshFp);
      await expectCode(
        ec2().send(
          new ImportKeyPairCommand({
            KeyName: unique("bad"),
            PublicKeyMaterial: Buffer.from("ssh-dss AAAAB3NzaC1kc3M= x"),
          }),
        ),
        "InvalidKeyPair.Format",
      );
      await expectCode(
        ec2().send(
          new ImportKeyPairCommand({
            KeyName: unique("bad"),
            PublicKeyMaterial: Buffer.from("ssh-rsa AAAAB3NzaC1yc2EAAAA= x"),
          }),
        ),
        "InvalidKeyPair.Format",
      );
    },
  );

  it("DescribeKeyPairs by name and filter, per account; admin verbose sees all; DeleteKeyPair", async () => {
    const mine = unique("mine");
    await ec2(alice).send(new CreateKeyPairCommand({ KeyName: mine }));
    const listed = await ec2(alice).send(new DescribeKeyPairsCommand({}));
    expect(listed.KeyPairs?.map((k) => k.KeyName)).toEqual([mine]);
    expect(
      (await ec2(alice).send(new DescribeKeyPairsCommand({ KeyNames: [mine], IncludePublicKey: true }))).KeyPairs?.[0]
        ?.PublicKey,
    ).toMatch(/^ssh-rsa /);
    expect(
      (await ec2(alice).send(new DescribeKeyPairsCommand({ Filters: [{ Name: "key-name", Values: ["mi*"] }] })))
        .KeyPairs,
    ).toHaveLength(1);
    await expectCode(ec2(alice).send(new DescribeKeyPairsCommand({ KeyNames: ["nope"] })), "InvalidKeyPair.NotFound");
    expect((await ec2().send(new DescribeKeyPairsCommand({}))).KeyPairs?.map((k) => k.KeyName)).not.toContain(mine);
    expect(
      (await ec2().send(new DescribeKeyPairsCommand({ KeyNames: ["verbose"] }))).KeyPairs?.map((k) => k.KeyName),
    ).toContain(mine);
    await ec2(alice).send(new DeleteKeyPairCommand({ KeyName: mine }));
    await ec2(alice).send(new DeleteKeyPairCommand({ KeyName: mine })); // idempotent
    expect((await ec2(alice).send(new DescribeKeyPairsCommand({}))).KeyPairs).toEqual([]);
  });
});

describe("security groups", () => {
  it("a default group exists per account; create, describe, duplicate, delete", async () => {
    const groups = await ec2(alice).send(new DescribeSecurityGroupsCommand({}));
    expect(groups.SecurityGroups?.map((g) => g.GroupName)).toEqual(["default"]);
    const name = unique("web");
    const { GroupId } = await ec2(alice).send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: "web servers" }),
    );
    expect(GroupId).toMatch(/^sg-/);
    await expectCode(
      ec2(alice).send(new CreateSecurityGroupCommand({ GroupName: name, Description: "again" })),
      "InvalidGroup.Duplicate",
    );
    const one = await ec2(alice).send(new DescribeSecurityGroupsCommand({ GroupNames: [name] }));
    expect(one.SecurityGroups?.[0]).toMatchObject({
      GroupName: name,
      GroupId,
      Description: "web servers",
      IpPermissions: [],
    });
    await expectCode(
      ec2(alice).send(new DescribeSecurityGroupsCommand({ GroupNames: ["missing"] })),
      "InvalidGroup.NotFound",
    );
    await expectCode(
      ec2(alice).send(new DeleteSecurityGroupCommand({ GroupName: "default" })),
      "InvalidGroup.Reserved",
    );
    await ec2(alice).send(new DeleteSecurityGroupCommand({ GroupId }));
    await expectCode(ec2(alice).send(new DeleteSecurityGroupCommand({ GroupId })), "InvalidGroup.NotFound");
  });

  it("Authorize/Revoke ingress with IpPermissions: CIDR, port ranges, icmp, group-to-group; duplicates and DependencyViolation", async () => {
    const web = unique("web");
    const db = unique("db");
    const { GroupId: webId } = await ec2(alice).send(
      new CreateSecurityGroupCommand({ GroupName: web, Description: "w" }),
    );
    const { GroupId: dbId } = await ec2(alice).send(
      new CreateSecurityGroupCommand({ GroupName: db, Description: "d" }),
    );
    await ec2(alice).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: webId,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 80,
            ToPort: 80,
            IpRanges: [{ CidrIp: "0.0.0.0/0" }, { CidrIp: "10.0.0.0/8" }],
          },
          { IpProtocol: "icmp", FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: "192.168.0.0/16" }] },
        ],
      }),
    );
    await ec2(alice).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: dbId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: webId }] }],
      }),
    );
    const g = (await ec2(alice).send(new DescribeSecurityGroupsCommand({ GroupIds: [webId!, dbId!] }))).SecurityGroups!;
    const webPerms = g.find((x) => x.GroupId === webId)!.IpPermissions!;
    expect(webPerms.find((p) => p.IpProtocol === "tcp")).toMatchObject({
      FromPort: 80,
      ToPort: 80,
      IpRanges: [{ CidrIp: "0.0.0.0/0" }, { CidrIp: "10.0.0.0/8" }],
    });
    expect(webPerms.find((p) => p.IpProtocol === "icmp")).toMatchObject({ FromPort: -1, ToPort: -1 });
    expect(g.find((x) => x.GroupId === dbId)!.IpPermissions![0]!.UserIdGroupPairs).toEqual([
      expect.objectContaining({ GroupId: webId, GroupName: web }),
    ]);
    const filtered = await ec2(alice).send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "ip-permission.from-port", Values: ["5432"] }] }),
    );
    expect(filtered.SecurityGroups?.map((x) => x.GroupId)).toEqual([dbId]);

    await expectCode(
      ec2(alice).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: webId,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }],
        }),
      ),
      "InvalidPermission.Duplicate",
    );
    await expectCode(
      ec2(alice).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: webId,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 90, ToPort: 80, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }],
        }),
      ),
      "InvalidParameterValue",
    );
    await expectCode(
      ec2(alice).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: webId,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: "10.0.0.300/8" }] }],
        }),
      ),
      "InvalidParameterValue",
    );
    await expectCode(
      ec2(alice).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: webId,
          IpPermissions: [{ IpProtocol: "gre-ish", IpRanges: [{ CidrIp: "10.0.0.0/8" }] }],
        }),
      ),
      "InvalidParameterValue",
    );
    await expectCode(
      ec2(alice).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: webId,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 1, ToPort: 2, UserIdGroupPairs: [{ GroupName: "no-such-group" }] },
          ],
        }),
      ),
      "InvalidGroup.NotFound",
    );
    await expectCode(ec2(alice).send(new DeleteSecurityGroupCommand({ GroupId: webId })), "DependencyViolation");

    await ec2(alice).send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: dbId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: webId }] }],
      }),
    );
    await expectCode(
      ec2(alice).send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: dbId,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: webId }] }],
        }),
      ),
      "InvalidPermission.NotFound",
    );
    await ec2(alice).send(new DeleteSecurityGroupCommand({ GroupId: webId }));
  });

  it("the old flat parameters (euca-authorize, boto 2) work", async () => {
    const name = unique("flat");
    await ec2(alice).send(new CreateSecurityGroupCommand({ GroupName: name, Description: "flat" }));
    const body = formEncode({
      Action: "AuthorizeSecurityGroupIngress",
      Version: "2009-11-30",
      GroupName: name,
      IpProtocol: "tcp",
      FromPort: "22",
      ToPort: "22",
      CidrIp: "172.16.0.0/12",
    });
    const r = await post(t.ec2Url, body, sigV4Headers(t.ec2Url, alice, body));
    expect(r.status).toBe(200);
    // A whole-group grant: every protocol from the caller's own default group (empty owner = mine).
    const whole = formEncode({
      Action: "AuthorizeSecurityGroupIngress",
      Version: "2009-11-30",
      GroupName: name,
      SourceSecurityGroupName: "default",
      SourceSecurityGroupOwnerId: "",
    });
    const r2 = await post(t.ec2Url, whole, sigV4Headers(t.ec2Url, alice, whole));
    expect(r2.status).toBe(200);
    const perms = (await ec2(alice).send(new DescribeSecurityGroupsCommand({ GroupNames: [name] }))).SecurityGroups![0]!
      .IpPermissions!;
    expect(
      perms.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.IpRanges?.length, p.UserIdGroupPairs?.[0]?.GroupName]),
    ).toEqual([
      ["tcp", 22, 22, 1, undefined],
      ["tcp", 0, 65535, 0, "default"],
      ["udp", 0, 65535, 0, "default"],
      ["icmp", -1, -1, 0, "default"],
    ]);
    // Another account's group that does not exist is NotFound, and nothing is created for that account.
    const other = formEncode({
      Action: "AuthorizeSecurityGroupIngress",
      Version: "2009-11-30",
      GroupName: name,
      SourceSecurityGroupName: "default",
      SourceSecurityGroupOwnerId: "999999999999",
    });
    const r3 = await post(t.ec2Url, other, sigV4Headers(t.ec2Url, alice, other));
    expect([r3.status, errorCode(r3.body)]).toEqual([400, "InvalidGroup.NotFound"]);
  });

  it("one account cannot see or change another's groups", async () => {
    const name = unique("private");
    const { GroupId } = await ec2(alice).send(new CreateSecurityGroupCommand({ GroupName: name, Description: "p" }));
    await expectCode(ec2().send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] })), "InvalidGroup.NotFound");
    await expectCode(ec2().send(new DeleteSecurityGroupCommand({ GroupId })), "InvalidGroup.NotFound");
    await expectCode(
      ec2().send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        }),
      ),
      "InvalidGroup.NotFound",
    );
  });
});
