import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { systemClock } from "../../../src/common/clock";
import { randomIds } from "../../../src/common/ids";
import { installComponentKey } from "../../../src/rpc/key-file";
import { createHttpWalrusClient } from "../../../src/roles/walrus/http-client";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../../support/bundles";

let t: TestCloud;
let alice: TestUser;
const ctx = { requestId: "req-image-cache" };

async function bytes(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const cacheFiles = () => readdirSync(join(t.cloud.layout.walrusDir, "image-cache")).filter((f) => f.endsWith(".img"));

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusImageCacheMb: 1, walrusMaxBuckets: 0 } });
  alice = await makeUser(t, unique("alice"));
});
afterAll(() => t.stop());

describe("Walrus image cache (GetDecryptedImage)", () => {
  it("decrypts a bundle once and serves the image from the cache, in process and over signed HTTP", async () => {
    const file = imageFile("root.img", 400_000);
    const [bucket, key] = (await uploadBundle(t, alice, file)).split("/") as [string, string];
    const first = await t.cloud.walrusClient!.getDecryptedImage({ bucket, key }, ctx);
    expect(first.size).toBe(400_000);
    expect((await bytes(first.body)).equals(readFileSync(file))).toBe(true);
    expect(cacheFiles()).toHaveLength(1);
    const key2 = { id: "ENKCACHETEST00000001", secret: "cache-test-secret", role: "nc", name: "node" };
    installComponentKey(t.cloud.layout.componentKeys, key2);
    const http = createHttpWalrusClient({
      baseUrl: new URL(t.cloud.endpoints.ec2Url).origin,
      key: key2,
      clock: systemClock,
      ids: randomIds,
    });
    expect((await bytes((await http.getDecryptedImage({ bucket, key }, ctx)).body)).equals(readFileSync(file))).toBe(
      true,
    );
    expect(cacheFiles()).toHaveLength(1);
  });

  it("evicts the least recently used image when the cache is full; refuses one larger than the cache", async () => {
    const a = (await uploadBundle(t, alice, imageFile("a.img", 450_000))).split("/") as [string, string];
    const b = (await uploadBundle(t, alice, imageFile("b.img", 450_000))).split("/") as [string, string];
    const c = (await uploadBundle(t, alice, imageFile("c.img", 450_000))).split("/") as [string, string];
    await bytes((await t.cloud.walrusClient!.getDecryptedImage({ bucket: a[0], key: a[1] }, ctx)).body);
    await bytes((await t.cloud.walrusClient!.getDecryptedImage({ bucket: b[0], key: b[1] }, ctx)).body);
    await bytes((await t.cloud.walrusClient!.getDecryptedImage({ bucket: c[0], key: c[1] }, ctx)).body);
    expect(cacheFiles().length).toBeLessThanOrEqual(2); // 1 MiB holds two of these
    const huge = (await uploadBundle(t, alice, imageFile("huge.img", 1_200_000))).split("/") as [string, string];
    await expect(t.cloud.walrusClient!.getDecryptedImage({ bucket: huge[0], key: huge[1] }, ctx)).rejects.toMatchObject(
      { kind: "InsufficientCapacity" },
    );
  });

  it("concurrent requests share one decryption", async () => {
    const file = imageFile("shared.img", 300_000);
    const [bucket, key] = (await uploadBundle(t, alice, file)).split("/") as [string, string];
    const results = await Promise.all(
      [1, 2, 3].map(async () => bytes((await t.cloud.walrusClient!.getDecryptedImage({ bucket, key }, ctx)).body)),
    );
    for (const r of results) expect(r.equals(readFileSync(file))).toBe(true);
    expect(readdirSync(join(t.cloud.layout.walrusDir, "image-cache")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
