/** The metadata service identifies the instance by the caller's address (fake instances use 127.64.0.0/16). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RunInstancesCommand,
  RegisterImageCommand,
  CreateKeyPairCommand,
  DescribeInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../support/bundles";
import { metadataRequest } from "../support/metadata";
import { ec2Client } from "../support/ec2";

let t: TestCloud;
let alice: TestUser;
let instance: { id: string; ip: string; reservation: string; imageId: string; location: string; keyName: string };

const get = (path: string, from: string, headers: Record<string, string> = {}, method = "GET") =>
  metadataRequest(t.ec2Url, method, path, from, headers);

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  alice = await makeUser(t, unique("alice"));
  const location = await uploadBundle(t, alice, imageFile("root.img", 100_000));
  const ec2 = ec2Client(t.ec2Url, alice);
  const imageId = (await ec2.send(new RegisterImageCommand({ ImageLocation: location, Name: "root" }))).ImageId!;
  const keyName = unique("kp");
  await ec2.send(new CreateKeyPairCommand({ KeyName: keyName }));
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      MinCount: 1,
      MaxCount: 1,
      KeyName: keyName,
      UserData: Buffer.from("#cloud-config\nhello: world\n").toString("base64"),
    }),
  );
  const i = run.Instances![0]!;
  instance = {
    id: i.InstanceId!,
    ip: i.PrivateIpAddress!,
    reservation: run.ReservationId!,
    imageId,
    location,
    keyName,
  };
  for (let k = 0; k < 100; k++) {
    const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance.id] }));
    if (d.Reservations?.[0]?.Instances?.[0]?.State?.Name === "running") break;
    await new Promise((r) => setTimeout(r, 25));
  }
});
afterAll(() => t.stop());

describe("instance metadata", () => {
  it("instances get loopback-range addresses with the fake hypervisor", () => {
    expect(instance.ip).toMatch(/^127\.64\.\d+\.\d+$/);
  });

  it("answers the Eucalyptus keys for the calling instance", async () => {
    const md = async (k: string) => (await get(`/latest/meta-data/${k}`, instance.ip)).body;
    expect(await md("instance-id")).toBe(instance.id);
    expect(await md("ami-id")).toBe(instance.imageId);
    expect(await md("ami-manifest-path")).toBe(instance.location);
    expect(await md("reservation-id")).toBe(instance.reservation);
    expect(await md("local-ipv4")).toBe(instance.ip);
    expect(await md("placement/availability-zone")).toBe("cluster1");
    expect(await md("security-groups")).toBe("default");
    expect(await md("instance-type")).toBe("m1.small");
    expect(await md("mac")).toMatch(/^d0:0d:/);
    expect(await md("public-keys/")).toBe(`0=${instance.keyName}`);
    expect(await md("public-keys/0/openssh-key")).toMatch(/^ssh-rsa /);
    expect(await md("block-device-mapping/root")).toBe("/dev/sda1");
    const listing = (await get("/latest/meta-data/", instance.ip)).body.split("\n");
    expect(listing).toEqual(
      expect.arrayContaining(["instance-id", "local-ipv4", "placement/", "public-keys/", "block-device-mapping/"]),
    );
    expect((await get("/latest/user-data", instance.ip)).body).toBe("#cloud-config\nhello: world\n");
    expect(JSON.parse((await get("/latest/dynamic/instance-identity/document", instance.ip)).body)).toMatchObject({
      instanceId: instance.id,
      accountId: alice.account,
      region: "eucalyptus",
    });
    expect((await get("/2009-04-04/meta-data/instance-id", instance.ip)).body).toBe(instance.id);
  });

  it("unknown keys and unknown callers get 404 Not Found; headers cannot impersonate an instance", async () => {
    expect(await get("/latest/meta-data/no-such-key", instance.ip)).toEqual({ status: 404, body: "Not Found\n" });
    expect((await get("/latest/meta-data/instance-id", "127.0.0.1")).status).toBe(404);
    expect((await get("/latest/meta-data/instance-id", "127.0.0.1", { "x-forwarded-for": instance.ip })).status).toBe(
      404,
    );
  });

  it("IMDSv2: a token from PUT /latest/api/token works only from the address it was given to", async () => {
    const tok = await get("/latest/api/token", instance.ip, { "x-aws-ec2-metadata-token-ttl-seconds": "60" }, "PUT");
    expect(tok.status).toBe(200);
    expect(
      (await get("/latest/meta-data/instance-id", instance.ip, { "x-aws-ec2-metadata-token": tok.body })).body,
    ).toBe(instance.id);
    expect(
      (await get("/latest/meta-data/instance-id", instance.ip, { "x-aws-ec2-metadata-token": "forged" })).status,
    ).toBe(401);
    expect(
      (await get("/latest/meta-data/instance-id", "127.0.0.1", { "x-aws-ec2-metadata-token": tok.body })).status,
    ).toBe(401);
    expect(
      (await get("/latest/api/token", instance.ip, { "x-aws-ec2-metadata-token-ttl-seconds": "999999" }, "PUT")).status,
    ).toBe(400);
  });
});
