/**
 * A snapshot of a volume attached over NBD is held still by its SC's qemu-storage-daemon
 * (docs/storage.md), yet the node answered the CLC's freezeVolume only "not frozen" and the
 * CLC logged on every such snapshot that the hypervisor cannot hold the volume still. The
 * node now says the volume's storage holds it (`heldByStorage`), and the CLC logs nothing.
 */
import { describe, expect, it } from "vitest";
import { HypervisorError } from "../../src/hypervisor/types";
import { nodeVolumes } from "../../src/roles/nc/volumes";
import { tempDir } from "../support/cloud";

const disk = (nbd: boolean) => ({
  device: "vdb",
  path: nbd ? "nbd://192.0.2.1:10809/vol-1" : "/v/vol-1",
  volumeId: "vol-1",
  ...(nbd ? { nbd: { host: "192.0.2.1", port: 10809, export: "vol-1", identity: "i", pskDir: "/tmp/x" } } : {}),
});

function methods(nbd: boolean) {
  const hypervisor = {
    get: async () => ({ disks: [disk(nbd)] }),
    freezeDisk: async () => {
      throw new HypervisorError("unsupported", "served from its storage controller's host");
    },
  };
  return nodeVolumes({ hypervisor: hypervisor as never, instanceDir: () => tempDir() } as never);
}

describe("freezeVolume of a volume the node cannot hold", () => {
  it("over NBD: not frozen here, held by its storage", async () => {
    expect(await methods(true).freezeVolume({ instanceId: "i-1", volumeId: "vol-1" }, { requestId: "r" })).toEqual({
      frozen: false,
      heldByStorage: true,
    });
  });
  it("a local file the hypervisor cannot hold (Xen): not held at all", async () => {
    expect(await methods(false).freezeVolume({ instanceId: "i-1", volumeId: "vol-1" }, { requestId: "r" })).toEqual({
      frozen: false,
      heldByStorage: false,
    });
  });
});
