import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RegisterImageCommand,
  DescribeImagesCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  ModifyImageAttributeCommand,
  ResetImageAttributeCommand,
} from "@aws-sdk/client-ec2";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { s3, type Creds } from "../../support/s3";
import { adminUser, imageFile, makeUser as makeTestUser, uploadBundle, type TestUser } from "../../support/bundles";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
let alice: TestUser;
let bob: TestUser;
const makeUser = (prefix: string) => makeTestUser(t, unique(prefix));
const upload = (user: TestUser, file: string, tamper?: (xml: string) => string) => uploadBundle(t, user, file, tamper);
const ec2 = (c: Creds = t.admin) => ec2Client(t.ec2Url, c);

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } }); // one bucket per bundle here
  alice = await makeUser("alice");
  bob = await makeUser("bob");
});
afterAll(() => t.stop());

describe("images from bundles", () => {
  it("registers a machine image; describes it; owner and visibility rules hold", async () => {
    const location = await upload(alice, imageFile("root.img"));
    const { ImageId } = await ec2(alice).send(
      new RegisterImageCommand({ ImageLocation: location, Name: "my root", Architecture: "x86_64" }),
    );
    expect(ImageId).toMatch(/^emi-[0-9a-f]{8}$/);
    const mine = await ec2(alice).send(new DescribeImagesCommand({ Owners: ["self"] }));
    expect(
      mine.Images?.map((i) => [
        i.ImageId,
        i.ImageLocation,
        i.Name,
        i.ImageType,
        i.State,
        i.OwnerId,
        i.Public,
        i.RootDeviceType,
      ]),
    ).toEqual([[ImageId, location, "my root", "machine", "available", alice.account, false, "instance-store"]]);
    await expect(ec2(bob).send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).rejects.toMatchObject({
      name: "InvalidAMIID.NotFound",
    });
    expect((await ec2(bob).send(new DescribeImagesCommand({}))).Images?.map((i) => i.ImageId)).not.toContain(ImageId);
    // The admin sees every image with verbose.
    expect(
      (await ec2().send(new DescribeImagesCommand({ ImageIds: ["verbose"] }))).Images?.map((i) => i.ImageId),
    ).toContain(ImageId);
  });

  it("launch permissions: a user, then everyone; reset; describe/modify attributes", async () => {
    const location = await upload(alice, imageFile("shared.img"));
    const { ImageId } = await ec2(alice).send(new RegisterImageCommand({ ImageLocation: location, Name: "shared" }));
    await ec2(alice).send(
      new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ UserId: bob.account }] } }),
    );
    expect(
      (await ec2(bob).send(new DescribeImagesCommand({ ExecutableUsers: ["self"] }))).Images?.map((i) => i.ImageId),
    ).toContain(ImageId);
    const attr = await ec2(alice).send(new DescribeImageAttributeCommand({ ImageId, Attribute: "launchPermission" }));
    expect(attr.LaunchPermissions).toEqual([{ UserId: bob.account }]);
    await ec2(alice).send(new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ Group: "all" }] } }));
    expect((await ec2(bob).send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images?.[0]?.Public).toBe(true);
    await expectEc2Error(
      ec2(bob).send(new ModifyImageAttributeCommand({ ImageId, Description: { Value: "mine now" } })),
      "UnauthorizedOperation",
    );
    await ec2(alice).send(new ModifyImageAttributeCommand({ ImageId, Description: { Value: "a shared image" } }));
    expect(
      (await ec2(alice).send(new DescribeImageAttributeCommand({ ImageId, Attribute: "description" }))).Description
        ?.Value,
    ).toBe("a shared image");
    await ec2(alice).send(new ResetImageAttributeCommand({ ImageId, Attribute: "launchPermission" }));
    await expect(ec2(bob).send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).rejects.toMatchObject({
      name: "InvalidAMIID.NotFound",
    });
    await ec2(alice).send(new DeregisterImageCommand({ ImageId }));
    await expectEc2Error(
      ec2(alice).send(new DescribeImageAttributeCommand({ ImageId, Attribute: "description" })),
      "InvalidAMIID.NotFound",
    );
  });

  it("kernels and ramdisks are admin-only, public, and referenced by machine images", async () => {
    const admin = adminUser(t);
    const kernelLoc = await upload(admin, imageFile("vmlinuz-6.1", 100_000));
    const ramdiskLoc = await upload(admin, imageFile("initrd.img-6.1", 100_000));
    const { ImageId: eki } = await ec2().send(new RegisterImageCommand({ ImageLocation: kernelLoc, Name: "kernel" }));
    const { ImageId: eri } = await ec2().send(new RegisterImageCommand({ ImageLocation: ramdiskLoc, Name: "ramdisk" }));
    expect([eki, eri].map((i) => i!.slice(0, 4))).toEqual(["eki-", "eri-"]);
    const userKernel = await upload(alice, imageFile("vmlinuz-custom", 50_000));
    await expectEc2Error(
      ec2(alice).send(new RegisterImageCommand({ ImageLocation: userKernel, Name: "k" })),
      "UnauthorizedOperation",
    );
    const root = await upload(alice, imageFile("withkernel.img"));
    const { ImageId } = await ec2(alice).send(
      new RegisterImageCommand({ ImageLocation: root, Name: "with kernel", KernelId: eki, RamdiskId: eri }),
    );
    const img = (await ec2(alice).send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!;
    expect([img.KernelId, img.RamdiskId]).toEqual([eki, eri]);
    expect(
      (
        await ec2(bob).send(new DescribeImagesCommand({ Filters: [{ Name: "image-type", Values: ["kernel"] }] }))
      ).Images?.map((i) => i.ImageId),
    ).toContain(eki);
    await expectEc2Error(
      ec2(alice).send(new RegisterImageCommand({ ImageLocation: root, Name: "bad kernel", KernelId: eri })),
      "InvalidParameterValue",
    );
  });

  it("refuses bad locations, other users' buckets and manifests that do not verify", async () => {
    await expectEc2Error(
      ec2(alice).send(new RegisterImageCommand({ ImageLocation: "no-slash", Name: "x" })),
      "InvalidParameterValue",
    );
    await expectEc2Error(
      ec2(alice).send(new RegisterImageCommand({ ImageLocation: "nobucket-here/x.manifest.xml", Name: "x" })),
      "InvalidParameterValue",
    );
    const aliceLoc = await upload(alice, imageFile("alices.img"));
    await expectEc2Error(
      ec2(bob).send(new RegisterImageCommand({ ImageLocation: aliceLoc, Name: "stolen" })),
      "UnauthorizedOperation",
    );
    const tampered = await upload(alice, imageFile("tampered.img"), (xml) =>
      xml.replace("<architecture>x86_64", "<architecture>i386"),
    );
    await expect(
      ec2(alice).send(new RegisterImageCommand({ ImageLocation: tampered, Name: "t" })),
    ).rejects.toMatchObject({
      name: "InvalidParameterValue",
      message: expect.stringContaining("manifest referenced is invalid"),
    });
    // Signed by someone else: bob's bundle placed in alice's bucket does not verify against alice's certificates.
    const bobsLoc = await upload(bob, imageFile("bobs.img"));
    const bobsXml = (await import("@aws-sdk/client-s3")).GetObjectCommand;
    const body = await (
      await s3(t, bob).send(new bobsXml({ Bucket: bobsLoc.split("/")[0], Key: bobsLoc.split("/")[1] }))
    ).Body!.transformToString();
    const aliceBucket = aliceLoc.split("/")[0]!;
    await s3(t, alice).send(
      new PutObjectCommand({ Bucket: aliceBucket, Key: "foreign.manifest.xml", Body: body, ACL: "aws-exec-read" }),
    );
    await expectEc2Error(
      ec2(alice).send(new RegisterImageCommand({ ImageLocation: `${aliceBucket}/foreign.manifest.xml`, Name: "f" })),
      "InvalidParameterValue",
    );
  });
});
