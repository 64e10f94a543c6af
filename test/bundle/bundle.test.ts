import { describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { bundleImage } from "../../src/bundle/create";
import { unbundle } from "../../src/bundle/unbundle";
import { parseManifest, verifyManifestSignature, ManifestError } from "../../src/bundle/manifest";
import { unpadPkcs1Type2, unwrapKey, UnwrapError, wrapKey } from "../../src/bundle/rsa-wrap";
import { createCloudCa, issueUserCertificate } from "../../src/roles/clc/identity/pki";
import { tempDir } from "../support/cloud";

async function fixture(imageBytes: Buffer) {
  const now = new Date();
  const ca = await createCloudCa("euca", now);
  const user = await issueUserCertificate(ca, { user: "alice", account: "123456789012" }, now);
  const dir = tempDir("euca-bundle-");
  const imagePath = join(dir, "disk.img");
  writeFileSync(imagePath, imageBytes);
  const b = await bundleImage({
    imagePath,
    destDir: join(dir, "bundle"),
    userCertPem: user.certPem,
    userKeyPem: user.keyPem,
    cloudCertPem: ca.certPem,
    userId: "123456789012",
    partSize: 1024 * 1024,
  });
  return { ca, user, dir, imagePath, b };
}

function sink() {
  const chunks: Buffer[] = [];
  return {
    out: new Writable({
      write(c, _e, cb) {
        chunks.push(c);
        cb();
      },
    }),
    bytes: () => Buffer.concat(chunks),
  };
}

describe("image bundles", () => {
  it("round trip: parts of the requested size, a signed manifest, decryption with the cloud key gives the image back", async () => {
    const image = randomBytes(2_500_000);
    const { ca, user, b } = await fixture(image);
    expect(b.partPaths.map((p) => p.split("/").pop())).toEqual([
      "disk.img.part.0",
      "disk.img.part.1",
      "disk.img.part.2",
    ]);
    const xml = readFileSync(b.manifestPath, "utf8");
    const m = parseManifest(xml);
    expect(m).toMatchObject({
      name: "disk.img",
      user: "123456789012",
      size: image.length,
      sha1: createHash("sha1").update(image).digest("hex"),
      architecture: "x86_64",
    });
    expect(m.parts.map((p) => p.sha1)).toEqual(
      b.partPaths.map((p) => createHash("sha1").update(readFileSync(p)).digest("hex")),
    );
    expect(verifyManifestSignature(xml, [user.certPem])).toBe(true);
    expect(verifyManifestSignature(xml, [ca.certPem])).toBe(false);
    // The user can unwrap their own copy of the key; the cloud its copy.
    expect(unwrapKey(user.keyPem, m.userEncryptedKey)).toBe(unwrapKey(ca.keyPem, m.ec2EncryptedKey));
    const s = sink();
    const r = await unbundle({
      manifestXml: xml,
      openPart: async (f) => createReadStream(join(b.manifestPath, "..", f)),
      cloudKeyPem: ca.keyPem,
      out: s.out,
    });
    expect(r.size).toBe(image.length);
    expect(s.bytes().equals(image)).toBe(true);
  });

  it("a tampered manifest fails its signature; a tampered part fails its digest", async () => {
    const { ca, user, b } = await fixture(randomBytes(300_000));
    const xml = readFileSync(b.manifestPath, "utf8");
    expect(verifyManifestSignature(xml.replace("<architecture>x86_64", "<architecture>i386"), [user.certPem])).toBe(
      false,
    );
    const part0 = readFileSync(b.partPaths[0]!);
    part0[100] = part0[100]! ^ 1;
    const s = sink();
    await expect(
      unbundle({
        manifestXml: xml,
        cloudKeyPem: ca.keyPem,
        out: s.out,
        openPart: async () => (await import("node:stream")).Readable.from([part0]),
      }),
    ).rejects.toBeInstanceOf(ManifestError);
  });

  it("a key wrapped for another key cannot be unwrapped, with one uniform error", async () => {
    const now = new Date();
    const a = await createCloudCa("a", now);
    const other = await createCloudCa("b", now);
    const wrapped = wrapKey(a.certPem, "00112233445566778899aabbccddeeff");
    expect(unwrapKey(a.keyPem, wrapped)).toBe("00112233445566778899aabbccddeeff");
    expect(() => unwrapKey(other.keyPem, wrapped)).toThrow(UnwrapError);
    expect(() => unwrapKey(a.keyPem, "00")).toThrow(UnwrapError);
    expect(() => unpadPkcs1Type2(Buffer.from([0, 2, 1, 1, 0, 9]))).toThrow(UnwrapError); // padding string too short
    expect(unpadPkcs1Type2(Buffer.from([0, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 7, 8])).equals(Buffer.from([7, 8]))).toBe(
      true,
    );
  });
});

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

describe.skipIf(!existsSync("/usr/bin/openssl") || !existsSync("/bin/tar"))(
  "bundle format, checked with openssl and tar",
  () => {
    it("openssl unwraps the key (PKCS#1 v1.5), decrypts AES-128-CBC; tar -xz yields the image", async () => {
      const image = randomBytes(1_500_000);
      const { ca, dir, b } = await fixture(image);
      const m = parseManifest(readFileSync(b.manifestPath, "utf8"));
      writeFileSync(join(dir, "cloud-pk.pem"), ca.keyPem);
      const unwrap = (hex: string) => {
        writeFileSync(join(dir, "wrapped.bin"), Buffer.from(hex, "hex"));
        return execFileSync(
          "openssl",
          ["pkeyutl", "-decrypt", "-inkey", join(dir, "cloud-pk.pem"), "-in", join(dir, "wrapped.bin")],
          { encoding: "utf8" },
        );
      };
      const key = unwrap(m.ec2EncryptedKey);
      const iv = unwrap(m.ec2EncryptedIv);
      expect(key).toMatch(/^[0-9a-f]{32}$/);
      const encrypted = Buffer.concat(b.partPaths.map((p) => readFileSync(p)));
      const tgz = execFileSync("openssl", ["enc", "-d", "-aes-128-cbc", "-K", key, "-iv", iv], {
        input: encrypted,
        maxBuffer: 64 * 1024 * 1024,
      });
      const out = join(dir, "extracted");
      execFileSync("mkdir", ["-p", out]);
      execFileSync("tar", ["-xz", "-C", out], { input: tgz });
      expect(readFileSync(join(out, "disk.img")).equals(image)).toBe(true);
    });
  },
);
