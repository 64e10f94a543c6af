/**
 * Block device mappings, as EC2 speaks of them on images (RegisterImage) and at launch
 * (RunInstances overrides the image's, device by device): an EBS volume from a snapshot or
 * empty, an instance-store disk (`ephemeralN`), or a device the image had that this launch
 * leaves out (`NoDevice`). Pure: parsed, checked and merged here; made by the launch.
 */
import { InvalidParameterError } from "../../../common/errors";
import { VOLUME_TYPES } from "./volume-types";

export interface EbsMapping {
  snapshotId?: string;
  volumeSize?: number;
  deleteOnTermination: boolean;
  volumeType: string;
}

export interface BlockDeviceMapping {
  /** As given ("/dev/sda1", "xvdf"). */
  deviceName: string;
  virtualName?: string;
  noDevice?: true;
  ebs?: EbsMapping;
}

/** What a request carries (the EC2 parameters, decoded). */
export interface MappingInput {
  DeviceName?: string;
  VirtualName?: string;
  NoDevice?: string;
  Ebs?: { SnapshotId?: string; VolumeSize?: number; DeleteOnTermination?: boolean; VolumeType?: string };
}

/** sda1, xvda, vdb, sdf, xvdba, hda: the names guests' disks take. */
const DEVICE = /^(?:\/dev\/)?((?:sd|xvd|vd|hd)[a-z]{1,2}\d{0,2})$/;
const EPHEMERAL = /^ephemeral([0-9]|1[0-9]|2[0-3])$/;
/** The largest volume one mapping may ask for (GiB), as EC2's standard volumes. */
export const MAX_VOLUME_GIB = 16 * 1024;

const invalid = (message: string) => new InvalidParameterError("BlockDeviceMapping", message, "block-device-mapping");

/** The device's short name ("sda1"), the key mappings and attachments are compared by; throws for a name no guest has. */
export function deviceKey(name: string): string {
  const m = DEVICE.exec(name.trim());
  if (!m) throw invalid(`Invalid device name ${name.slice(0, 64)}: use /dev/sda1, /dev/xvda, /dev/sdf … /dev/sdz`);
  return m[1]!;
}

/** The device names sda1 / xvda / vda are one disk to a guest: the root, whichever the image called it. */
const sameDisk = (a: string, b: string) => deviceKey(a) === deviceKey(b);

/** The request's mappings, checked one by one and as a set (one mapping per device). */
export function parseMappings(list: readonly MappingInput[] | undefined): BlockDeviceMapping[] {
  const out: BlockDeviceMapping[] = [];
  for (const m of list ?? []) {
    if (m.DeviceName === undefined) throw invalid("Every block device mapping needs a DeviceName");
    const key = deviceKey(m.DeviceName);
    if (out.some((x) => deviceKey(x.deviceName) === key))
      throw invalid(`The device name ${m.DeviceName} is mapped more than once`);
    const kinds = [m.Ebs !== undefined, m.VirtualName !== undefined, m.NoDevice !== undefined].filter(Boolean).length;
    if (kinds !== 1)
      throw invalid(`The mapping of ${m.DeviceName} must give exactly one of Ebs, VirtualName and NoDevice`);
    if (m.NoDevice !== undefined) {
      out.push({ deviceName: m.DeviceName, noDevice: true });
      continue;
    }
    if (m.VirtualName !== undefined) {
      if (!EPHEMERAL.test(m.VirtualName))
        throw invalid(`Invalid virtual name ${m.VirtualName.slice(0, 64)}: use ephemeral0 … ephemeral23`);
      out.push({ deviceName: m.DeviceName, virtualName: m.VirtualName });
      continue;
    }
    const e = m.Ebs!;
    if (
      e.VolumeSize !== undefined &&
      (!Number.isInteger(e.VolumeSize) || e.VolumeSize < 1 || e.VolumeSize > MAX_VOLUME_GIB)
    )
      throw invalid(`The volume size of ${m.DeviceName} must be a whole number of GiB from 1 to ${MAX_VOLUME_GIB}`);
    if (e.SnapshotId === undefined && e.VolumeSize === undefined)
      throw invalid(`The EBS mapping of ${m.DeviceName} needs a SnapshotId or a VolumeSize`);
    const type = e.VolumeType ?? "standard";
    if (!(VOLUME_TYPES as readonly string[]).includes(type))
      throw invalid(`The volume type '${type.slice(0, 32)}' is not one of ${VOLUME_TYPES.join(", ")}`);
    out.push({
      deviceName: m.DeviceName,
      ebs: {
        ...(e.SnapshotId !== undefined ? { snapshotId: e.SnapshotId } : {}),
        ...(e.VolumeSize !== undefined ? { volumeSize: e.VolumeSize } : {}),
        deleteOnTermination: e.DeleteOnTermination ?? true,
        volumeType: type,
      },
    });
  }
  return out;
}

/**
 * A launch's mappings: the image's, with the request's laid over them device by device —
 * a size, type or DeleteOnTermination changed (the snapshot stays the image's), a device
 * the image had left out (NoDevice), new devices added.
 */
export function mergeMappings(
  image: readonly BlockDeviceMapping[],
  launch: readonly BlockDeviceMapping[],
): BlockDeviceMapping[] {
  const out = image.map((m) => ({ ...m, ...(m.ebs ? { ebs: { ...m.ebs } } : {}) }));
  for (const l of launch) {
    const i = out.findIndex((m) => sameDisk(m.deviceName, l.deviceName));
    if (i < 0) {
      if (!l.noDevice) out.push(l);
      continue;
    }
    const was = out[i]!;
    if (l.noDevice) out.splice(i, 1);
    else if (l.ebs && was.ebs)
      out[i] = {
        deviceName: was.deviceName,
        ebs: {
          ...was.ebs,
          ...(l.ebs.volumeSize !== undefined ? { volumeSize: l.ebs.volumeSize } : {}),
          deleteOnTermination: l.ebs.deleteOnTermination,
          volumeType: l.ebs.volumeType,
          ...(l.ebs.snapshotId !== undefined ? { snapshotId: l.ebs.snapshotId } : {}),
        },
      };
    else out[i] = l;
  }
  return out;
}

/** The root's mapping in a list (by the root device name), if it has one. */
export function rootMapping(
  list: readonly BlockDeviceMapping[],
  rootDeviceName: string,
): BlockDeviceMapping | undefined {
  return list.find((m) => !m.noDevice && sameDisk(m.deviceName, rootDeviceName));
}

export const encodeMappings = (list: readonly BlockDeviceMapping[]) => JSON.stringify(list);
export const decodeMappings = (text: string) => JSON.parse(text) as BlockDeviceMapping[];
