/** One contract for StorageClient, run against the in-process and the signed-HTTP transport. */
import { existsSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { StorageClient } from "../../src/roles/sc/client";
import { until } from "../support/until";

const ctx = { requestId: "req-storage-contract" };

export function storageClientContract(
  name: string,
  setup: () => Promise<{ client: StorageClient; teardown(): Promise<void> }>,
) {
  describe(`StorageClient over ${name}`, () => {
    const availableSoon = async (c: StorageClient, id: string) =>
      until(async () => (await c.describeVolumes({ volumeIds: [id] }, ctx)).volumes[0]?.state === "available");

    it("a volume is made (creating, then available), exported as a file, unexported and removed", async () => {
      const { client, teardown } = await setup();
      try {
        expect(await client.createVolume({ volumeId: "vol-0000000a", sizeGiB: 1 }, ctx)).toMatchObject({
          volumeId: "vol-0000000a",
          sizeGiB: 1,
          state: "creating",
        });
        expect(await client.createVolume({ volumeId: "vol-0000000a", sizeGiB: 1 }, ctx)).toMatchObject({
          volumeId: "vol-0000000a",
        }); // idempotent
        await availableSoon(client, "vol-0000000a");
        expect(await client.describeStorage({}, ctx)).toMatchObject({
          backend: "raw",
          usedGiB: 1,
          maxVolumeGiB: 2,
          maxTotalGiB: 3,
        });
        const target = await client.exportVolume(
          { volumeId: "vol-0000000a", instanceId: "i-00000001", local: true },
          ctx,
        );
        if (target.kind !== "file") throw new Error("a node on the SC's host opens the file");
        expect(statSync(target.path).size).toBe(1024 ** 3);
        await expect(
          client.exportVolume({ volumeId: "vol-0000000a", instanceId: "i-00000002", local: true }, ctx),
        ).rejects.toMatchObject({ kind: "IncorrectState", reason: "volume-in-use" });
        await expect(client.deleteVolume({ volumeId: "vol-0000000a" }, ctx)).rejects.toMatchObject({
          kind: "IncorrectState",
          reason: "volume-in-use",
        });
        await client.unexportVolume({ volumeId: "vol-0000000a", instanceId: "i-00000001" }, ctx);
        await client.deleteVolume({ volumeId: "vol-0000000a" }, ctx);
        await until(
          async () => (await client.describeVolumes({ volumeIds: ["vol-0000000a"] }, ctx)).volumes.length === 0,
        );
        expect(existsSync(target.path)).toBe(false);
        await client.deleteVolume({ volumeId: "vol-0000000a" }, ctx); // idempotent
      } finally {
        await teardown();
      }
    });

    it("refuses bad ids and sizes, sizes over the limit and storage it does not have, with typed errors", async () => {
      const { client, teardown } = await setup();
      try {
        await expect(client.createVolume({ volumeId: "../../etc", sizeGiB: 1 }, ctx)).rejects.toMatchObject({
          kind: "InvalidParameter",
          parameter: "VolumeId",
        });
        await expect(client.createVolume({ volumeId: "vol-00000001", sizeGiB: 0 }, ctx)).rejects.toMatchObject({
          kind: "InvalidParameter",
          parameter: "Size",
        });
        await expect(client.createVolume({ volumeId: "vol-00000001", sizeGiB: 3 }, ctx)).rejects.toMatchObject({
          kind: "InvalidParameter",
          parameter: "Size",
        });
        await client.createVolume({ volumeId: "vol-00000001", sizeGiB: 2 }, ctx);
        await expect(client.createVolume({ volumeId: "vol-00000002", sizeGiB: 2 }, ctx)).rejects.toMatchObject({
          kind: "InsufficientCapacity",
          of: "volumes",
        });
        await expect(client.createVolume({ volumeId: "vol-00000001", sizeGiB: 1 }, ctx)).rejects.toMatchObject({
          kind: "InvalidParameter",
          reason: "idempotency-mismatch",
        });
        await expect(
          client.exportVolume({ volumeId: "vol-00000009", instanceId: "i-00000001", local: true }, ctx),
        ).rejects.toMatchObject({ kind: "NotFound", resource: "volume" });
      } finally {
        await teardown();
      }
    });
  });
}
