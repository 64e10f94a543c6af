/** Bundles a file as a user and uploads it (aws-exec-read), as `euca image bundle && upload` would. */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { bundleImage } from "../../src/bundle/create";
import { tempDir, type TestCloud } from "./cloud";
import { bucketName, s3, type Creds } from "./s3";

export type TestUser = Creds & { name: string; account: string };

export async function makeUser(t: TestCloud, name: string): Promise<TestUser> {
  const creds = await t.createUser(name);
  return { ...creds, name, account: t.cloud.identity!.getUser(name).accountId };
}

export function adminUser(t: TestCloud): TestUser {
  return { ...t.admin, name: "admin", account: t.cloud.identity!.getUser("admin").accountId };
}

export function imageFile(name: string, size = 600_000): string {
  const p = join(tempDir("euca-raw-"), name);
  writeFileSync(p, randomBytes(size));
  return p;
}

/** Returns bucket/manifest-key. */
export async function uploadBundle(
  t: TestCloud,
  user: TestUser,
  file: string,
  tamper?: (xml: string) => string,
  productCodes?: string[],
): Promise<string> {
  const { set, dir } = t.cloud.identity!.credentialSetOf(user.name);
  const b = await bundleImage({
    imagePath: file,
    destDir: tempDir("euca-img-"),
    userCertPem: readFileSync(join(dir, `${set.baseName}-cert.pem`), "utf8"),
    userKeyPem: readFileSync(join(dir, `${set.baseName}-pk.pem`), "utf8"),
    cloudCertPem: readFileSync(t.cloud.layout.cloudCert, "utf8"),
    userId: user.account,
    partSize: 256 * 1024,
    productCodes,
  });
  const bucket = bucketName("img");
  const c = s3(t, user);
  await c.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const part of b.partPaths)
    await c.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: part.split("/").pop(),
        Body: readFileSync(part),
        ACL: "aws-exec-read",
      }),
    );
  const key = b.manifestPath.split("/").pop()!;
  const xml = readFileSync(b.manifestPath, "utf8");
  await c.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: tamper ? tamper(xml) : xml, ACL: "aws-exec-read" }),
  );
  return `${bucket}/${key}`;
}

/** An image reference for node-level tests: a new user's bundle of `size` random bytes, as the CLC hands it to a node. */
export async function nodeImageRef(
  t: TestCloud,
  id: string,
  size: number,
): Promise<{ id: string; bucket: string; manifestKey: string }> {
  const owner = await makeUser(t, `img${process.pid}x${randomBytes(3).toString("hex")}`);
  const [bucket, manifestKey] = (await uploadBundle(t, owner, imageFile("root.img", size))).split("/") as [
    string,
    string,
  ];
  return { id, bucket, manifestKey };
}
