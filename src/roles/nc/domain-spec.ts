/**
 * What a guest is started from: its image, kernel and ramdisk fetched (from the cache or
 * Walrus), its disks made in its directory, its card as given. `stillWanted` throws between
 * steps when the instance was terminated meanwhile.
 */
import { constants, copyFileSync, linkSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { CallContext } from "../../rpc/types";
import type { DomainSpec, Hypervisor, NicSpec } from "../../hypervisor/types";
import type { ProgramRunner } from "../../common/run-program";
import type { RunInstanceRequest } from "./client";
import type { NodeImageCache } from "./image-cache";
import { assembleDisks, ephemeralDisk } from "./disks";
import { InvalidParameterError } from "../../common/errors";
import { volumeDisk } from "./volume-disks";

/** A hard link to a cached file (no copy), or a copy across filesystems. */
function keep(cached: string, path: string): string {
  try {
    linkSync(cached, path);
  } catch {
    copyFileSync(cached, path, constants.COPYFILE_FICLONE);
  }
  return path;
}

export async function domainSpecOf(
  d: { images: NodeImageCache; hypervisor: Hypervisor; run: ProgramRunner; log: Logger },
  r: RunInstanceRequest,
  at: { dir: string; nic: () => NicSpec },
  ctx: CallContext,
  stillWanted: () => void = () => undefined,
): Promise<DomainSpec> {
  const id = r.instanceId;
  const { dir } = at;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (r.rootVolume) return ebsRootedSpec(d, r, at, ctx, stillWanted);
  if (!r.image) throw new InvalidParameterError("image", `instance ${id} names neither an image nor a root volume`);
  const image = await d.images.fetch(r.image, ctx);
  stillWanted();
  // Kernel and ramdisk live in the instance's directory (Eucalyptus' layout), so evicting
  // them from the cache cannot pull them from under a guest that reboots.
  const kernel = r.kernel ? keep(await d.images.fetch(r.kernel, ctx), join(dir, "kernel")) : undefined;
  stillWanted();
  const ramdisk = r.ramdisk ? keep(await d.images.fetch(r.ramdisk, ctx), join(dir, "ramdisk")) : undefined;
  stillWanted();
  const caps = d.hypervisor.capabilities();
  const g = caps.guest;
  const nic = at.nic(); // read late: the cluster may change its forwards while images download
  const disks = await assembleDisks({
    dir,
    image,
    vmType: r.vmType,
    publicKey: r.publicKey,
    realGuests: caps.realGuests,
    run: d.run,
  });
  stillWanted();
  if (r.publicKey && caps.realGuests && !disks.keyInjected) {
    d.log.info(
      { requestId: ctx.requestId, instanceId: id },
      "nc: root image is not an ext filesystem; the key is only in the metadata",
    );
  }
  return {
    instanceId: id,
    memoryMb: r.vmType.memoryMb,
    cores: r.vmType.cpus,
    kernel,
    ramdisk,
    kernelArgs: `root=/dev/${g.root} console=${g.console}`,
    disks: [
      { path: disks.root, device: g.root },
      { path: disks.ephemeral, device: g.ephemeral },
      { path: disks.swap, device: g.swap },
    ],
    nics: [caps.portForwarding || nic.mode !== "user" ? nic : { ...nic, forwards: [] }],
    consolePath: join(dir, "console.log"),
  };
}

/**
 * An EBS-backed guest: it boots from its root volume (its own bootloader, or the kernel
 * given), with an instance-store disk per ephemeral mapping and no swap, as on EC2. The
 * SSH key is not written into the volume: the guest reads it from the metadata service.
 */
async function ebsRootedSpec(
  d: { images: NodeImageCache; hypervisor: Hypervisor; run: ProgramRunner; log: Logger },
  r: RunInstanceRequest,
  at: { dir: string; nic: () => NicSpec },
  ctx: CallContext,
  stillWanted: () => void,
): Promise<DomainSpec> {
  const { dir } = at;
  const caps = d.hypervisor.capabilities();
  const g = caps.guest;
  const kernel = r.kernel ? keep(await d.images.fetch(r.kernel, ctx), join(dir, "kernel")) : undefined;
  stillWanted();
  const ramdisk = r.ramdisk ? keep(await d.images.fetch(r.ramdisk, ctx), join(dir, "ramdisk")) : undefined;
  stillWanted();
  const root = r.rootVolume!;
  const ephemeral = await Promise.all(
    (r.ephemeral ?? []).map(async (device, i) => ({
      path: await ephemeralDisk({
        path: join(dir, `ephemeral${i}`),
        bytes: r.vmType.diskGb * 1024 ** 3,
        realGuests: caps.realGuests,
        run: d.run,
      }),
      device,
    })),
  );
  stillWanted();
  const nic = at.nic();
  return {
    instanceId: r.instanceId,
    memoryMb: r.vmType.memoryMb,
    cores: r.vmType.cpus,
    kernel,
    ramdisk,
    kernelArgs: kernel ? `root=/dev/${g.root} console=${g.console}` : undefined,
    disks: [volumeDisk(root.target, { volumeId: root.volumeId, device: g.root, dir }), ...ephemeral],
    nics: [caps.portForwarding || nic.mode !== "user" ? nic : { ...nic, forwards: [] }],
    consolePath: join(dir, "console.log"),
  };
}
