/**
 * EBS snapshots through the EC2 API on the in-process cloud: chunks in Walrus, uploaded
 * only when this SC does not hold them, reference-counted across snapshots; volumes made
 * from snapshots read what the volume held. Writes to a volume are made to its file (as a
 * guest's would be); test/e2e/volumes-guest.test.ts does it from a real guest.
 */
import { createHash, randomBytes } from "node:crypto";
import { openSync, readSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  ModifySnapshotAttributeCommand,
  ResetSnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { makeUser, type TestUser } from "../../support/bundles";
import { until } from "../../support/until";
import { CHUNK_SIZE } from "../../../src/roles/sc/chunks";
import { SNAPSHOT_BUCKET } from "../../../src/roles/sc/snapshots";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
let alice: TestUser;
let bob: TestUser;
const ZONE = "cluster1";
const MiB = 1024 * 1024;
const ec2 = (c: TestUser) => ec2Client(t.ec2Url, c);
const fileOf = (vol: string) => join(t.dataDir, "volumes", `${vol}.img`);

function write(vol: string, offset: number, data: Buffer): void {
  const fd = openSync(fileOf(vol), "r+");
  writeSync(fd, data, 0, data.length, offset);
  closeSync(fd);
}
/** `length` bytes of a volume's file from `offset` (not the whole GiB). */
function read(vol: string, offset: number, length: number): Buffer {
  const fd = openSync(fileOf(vol), "r");
  const b = Buffer.alloc(length);
  readSync(fd, b, 0, length, offset);
  closeSync(fd);
  return b;
}
async function volume(c: TestUser, size = 1, snapshotId?: string): Promise<string> {
  const id = (
    await ec2(c).send(
      new CreateVolumeCommand({ Size: snapshotId ? undefined : size, SnapshotId: snapshotId, AvailabilityZone: ZONE }),
    )
  ).VolumeId!;
  await until(
    async () => (await ec2(c).send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!.State === "available",
    { timeoutMs: 30_000 },
  );
  return id;
}
async function snapshot(c: TestUser, vol: string): Promise<string> {
  const s = await ec2(c).send(new CreateSnapshotCommand({ VolumeId: vol, Description: "test" }));
  expect(s).toMatchObject({ VolumeId: vol, VolumeSize: 1, Description: "test" });
  expect(["pending", "completed"]).toContain(s.State);
  await until(
    async () =>
      (await ec2(c).send(new DescribeSnapshotsCommand({ SnapshotIds: [s.SnapshotId!] }))).Snapshots![0]!.State ===
      "completed",
    { timeoutMs: 30_000 },
  );
  return s.SnapshotId!;
}
/** What the SC recorded of a snapshot: chunks in it, and those it uploaded. */
function scRecord(id: string): { chunks: number; uploaded: number; uploaded_bytes: number } {
  const db = new Database(join(t.dataDir, "sc.db"), { readonly: true });
  try {
    return db.prepare("SELECT chunks, uploaded, uploaded_bytes FROM snapshots WHERE id = ?").get(id) as {
      chunks: number;
      uploaded: number;
      uploaded_bytes: number;
    };
  } finally {
    db.close();
  }
}
const chunkStored = (sha: string) =>
  t.cloud.walrusClient!.headObject({ bucket: SNAPSHOT_BUCKET, key: `chunks/${ZONE}/${sha}` }, { requestId: "t" }).then(
    () => true,
    () => false,
  );
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  alice = await makeUser(t, unique("alice"));
  bob = await makeUser(t, unique("bob"));
});
afterAll(() => t.stop());

describe("snapshots", () => {
  it("the first uploads only what was written; the second only the MiB that changed; a volume from either reads what the volume held", async () => {
    const vol = await volume(alice);
    const first = randomBytes(8 * MiB);
    write(vol, 100 * MiB, first);
    const s1 = await snapshot(alice, vol);
    expect(scRecord(s1)).toEqual({ chunks: 16, uploaded: 16, uploaded_bytes: 8 * MiB }); // 8 MiB of 1 GiB read and sent; holes never read

    const changed = randomBytes(MiB);
    write(vol, 100 * MiB + 2 * MiB, changed);
    const s2 = await snapshot(alice, vol);
    expect(scRecord(s2)).toEqual({ chunks: 16, uploaded: 2, uploaded_bytes: MiB });

    const from1 = await volume(alice, 1, s1);
    const from2 = await volume(alice, 1, s2);
    const at = (v: string) => read(v, 100 * MiB, 8 * MiB);
    expect(at(from1).equals(first)).toBe(true);
    const expected = Buffer.from(first);
    changed.copy(expected, 2 * MiB);
    expect(at(from2).equals(expected)).toBe(true);
    expect((await ec2(alice).send(new DescribeVolumesCommand({ VolumeIds: [from2] }))).Volumes![0]).toMatchObject({
      SnapshotId: s2,
      Size: 1,
    });

    // Deleting the first frees only the two chunks the second does not have.
    const only1 = [0, 1].map((i) => sha(first.subarray(2 * MiB + i * CHUNK_SIZE, 2 * MiB + (i + 1) * CHUNK_SIZE)));
    const shared = sha(first.subarray(0, CHUNK_SIZE));
    expect(await chunkStored(only1[0]!)).toBe(true);
    await ec2(alice).send(new DeleteSnapshotCommand({ SnapshotId: s1 }));
    await until(async () => !(await chunkStored(only1[0]!)) && !(await chunkStored(only1[1]!)));
    expect(await chunkStored(shared)).toBe(true);
    await expect(ec2(alice).send(new DescribeSnapshotsCommand({ SnapshotIds: [s1] }))).rejects.toMatchObject({
      name: "InvalidSnapshot.NotFound",
    });
    // And a volume from the second still reads it all.
    const again = await volume(alice, 1, s2);
    expect(at(again).equals(expected)).toBe(true);
    await ec2(alice).send(new DeleteSnapshotCommand({ SnapshotId: s2 }));
    await until(async () => !(await chunkStored(shared)));
    for (const v of [vol, from1, from2, again]) await ec2(alice).send(new DeleteVolumeCommand({ VolumeId: v }));
  });

  it("equal data in two volumes is stored once", async () => {
    const data = randomBytes(2 * MiB);
    const [a, b] = [await volume(alice), await volume(alice)];
    write(a, 0, data);
    write(b, 512 * MiB, data);
    const sa = await snapshot(alice, a);
    const sb = await snapshot(alice, b);
    expect(scRecord(sa).uploaded).toBe(4);
    expect(scRecord(sb)).toMatchObject({ chunks: 4, uploaded: 0 });
    for (const s of [sa, sb]) await ec2(alice).send(new DeleteSnapshotCommand({ SnapshotId: s }));
    for (const v of [a, b]) await ec2(alice).send(new DeleteVolumeCommand({ VolumeId: v }));
  });

  it("only the owner and whom it lets may restore; another tenant's volume cannot be snapshotted", async () => {
    const vol = await volume(alice);
    write(vol, 0, Buffer.from("alice's secret"));
    await expect(ec2(bob).send(new CreateSnapshotCommand({ VolumeId: vol }))).rejects.toMatchObject({
      name: "InvalidVolume.NotFound",
    });
    const s = await snapshot(alice, vol);
    expect((await ec2(bob).send(new DescribeSnapshotsCommand({}))).Snapshots).toEqual([]);
    await expectEc2Error(
      ec2(bob).send(new CreateVolumeCommand({ SnapshotId: s, AvailabilityZone: ZONE })),
      "InvalidSnapshot.NotFound",
    );
    await expectEc2Error(
      ec2(bob).send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: s,
          Attribute: "createVolumePermission",
          OperationType: "add",
          UserIds: [bob.account],
        }),
      ),
      "InvalidSnapshot.NotFound",
    );

    await ec2(alice).send(
      new ModifySnapshotAttributeCommand({ SnapshotId: s, CreateVolumePermission: { Add: [{ UserId: bob.account }] } }),
    );
    expect(
      (
        await ec2(alice).send(
          new DescribeSnapshotAttributeCommand({ SnapshotId: s, Attribute: "createVolumePermission" }),
        )
      ).CreateVolumePermissions,
    ).toEqual([{ UserId: bob.account }]);
    expect(
      (await ec2(bob).send(new DescribeSnapshotsCommand({ RestorableByUserIds: ["self"] }))).Snapshots!.map(
        (x) => x.SnapshotId,
      ),
    ).toEqual([s]);
    expect((await ec2(bob).send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots).toEqual([]);
    const bobs = await volume(bob, 1, s);
    expect(read(bobs, 0, 14).toString()).toBe("alice's secret");
    await expectEc2Error(
      ec2(bob).send(new CreateVolumeCommand({ SnapshotId: s, Size: 0, AvailabilityZone: ZONE })),
      "InvalidParameterValue",
    );

    await ec2(alice).send(new ResetSnapshotAttributeCommand({ SnapshotId: s, Attribute: "createVolumePermission" }));
    await expectEc2Error(
      ec2(bob).send(new CreateVolumeCommand({ SnapshotId: s, AvailabilityZone: ZONE })),
      "InvalidSnapshot.NotFound",
    );
    await expect(ec2(bob).send(new DeleteSnapshotCommand({ SnapshotId: s }))).rejects.toMatchObject({
      name: "InvalidSnapshot.NotFound",
    });
    await ec2(alice).send(new DeleteSnapshotCommand({ SnapshotId: s }));
    await ec2(bob).send(new DeleteVolumeCommand({ VolumeId: bobs }));
    await ec2(alice).send(new DeleteVolumeCommand({ VolumeId: vol }));
  });
});
