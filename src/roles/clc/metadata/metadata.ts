/**
 * Instance metadata as Eucalyptus served it (reference §4.6): the 1.6.2 keys, plus
 * `mac` and `instance-identity/document` (4.4), and user data. Pure: given an
 * instance and what it references, answers a path with a value or a listing.
 */
import type { InstanceRecord, InstanceService } from "../compute/instances";
import type { ImageService } from "../compute/images";
import type { KeyPairService } from "../compute/key-pairs";

export type MetadataAnswer =
  { kind: "value"; text: string; contentType?: string } | { kind: "listing"; entries: string[] };

export interface MetadataContext {
  instance: InstanceRecord;
  publicIp?: string;
  groups: string[];
  key?: { name: string; publicKey: string };
  imageLocation: string;
  region: string;
}

type Tree = { [name: string]: string | Tree };

function metaData(c: MetadataContext): Tree {
  const i = c.instance;
  const tree: Tree = {
    "ami-id": i.imageId,
    "ami-launch-index": String(i.launchIndex),
    "ami-manifest-path": c.imageLocation,
    "ancestor-ami-ids": "none",
    "product-codes": "",
    hostname: c.publicIp ?? i.privateIp,
    "instance-id": i.id,
    "instance-type": i.instanceType,
    "local-hostname": i.privateIp,
    "local-ipv4": i.privateIp,
    "public-hostname": c.publicIp ?? i.privateIp,
    "public-ipv4": c.publicIp ?? i.privateIp,
    "reservation-id": i.reservationId,
    "security-groups": c.groups.join("\n"),
    mac: i.mac,
    "block-device-mapping": {
      emi: "sda1",
      ami: "sda1",
      ephemeral: "sda2",
      ephemeral0: "sda2",
      swap: "sda3",
      root: "/dev/sda1",
    },
    placement: { "availability-zone": i.zone },
  };
  if (i.kernelId) tree["kernel-id"] = i.kernelId;
  if (i.ramdiskId) tree["ramdisk-id"] = i.ramdiskId;
  if (c.key) tree["public-keys"] = { [`0=${c.key.name}`]: "", "0": { "openssh-key": c.key.publicKey } };
  return tree;
}

export function identityDocument(c: MetadataContext): string {
  const i = c.instance;
  return JSON.stringify(
    {
      accountId: i.accountId,
      architecture: "x86_64",
      availabilityZone: i.zone,
      imageId: i.imageId,
      instanceId: i.id,
      instanceType: i.instanceType,
      kernelId: i.kernelId,
      ramdiskId: i.ramdiskId,
      pendingTime: i.launchTime.toISOString(),
      privateIp: i.privateIp,
      region: c.region,
      version: "2017-09-30",
    },
    null,
    2,
  );
}

/** Answers `path` below the version (e.g. "meta-data/placement/availability-zone"). */
export function answerMetadata(c: MetadataContext, path: string): MetadataAnswer | undefined {
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0)
    return { kind: "listing", entries: ["dynamic", "meta-data", ...(c.instance.userData ? ["user-data"] : [])] };
  const [top, ...rest] = parts;
  if (top === "user-data" && rest.length === 0) {
    return c.instance.userData
      ? {
          kind: "value",
          text: Buffer.from(c.instance.userData, "base64").toString("latin1"),
          contentType: "application/octet-stream",
        }
      : undefined;
  }
  const root: Tree | undefined =
    top === "meta-data"
      ? { ...metaData(c), "instance-identity": { document: identityDocument(c) } }
      : top === "dynamic"
        ? { "instance-identity": { document: identityDocument(c) } }
        : undefined;
  if (!root) return undefined;
  let node: string | Tree = root;
  for (const p of rest) {
    if (typeof node === "string") return undefined;
    const next: string | Tree | undefined = Object.hasOwn(node, p) ? node[p] : undefined;
    if (next === undefined) return undefined;
    node = next;
  }
  if (typeof node === "string") return { kind: "value", text: node };
  const keys = Object.keys(node);
  // public-keys/ lists "0=name" only; "0/" is reachable but not listed (as in EC2).
  return {
    kind: "listing",
    entries: Object.entries(node)
      .filter(([k, v]) => typeof v === "string" || !keys.some((x) => x.startsWith(`${k}=`)))
      .map(([k, v]) => (typeof v === "string" ? k : `${k}/`)),
  };
}

export interface MetadataSources {
  byAddress(ip: string): InstanceRecord | undefined;
  publicIpOf(instanceId: string): string | undefined;
  groupsOf(i: InstanceRecord): Array<{ name: string }>;
  imageLocation(imageId: string, accountId: string): string;
  keyOf(accountId: string, keyName: string): { name: string; publicKey: string } | undefined;
  region: string;
}

/** The metadata context of the instance at `ip`, if one is running there. */
export function metadataContextFor(s: MetadataSources, ip: string): MetadataContext | undefined {
  const instance = s.byAddress(ip);
  return instance && metadataContextOf(s, instance);
}

export function metadataContextOf(s: MetadataSources, instance: InstanceRecord): MetadataContext {
  return {
    instance,
    publicIp: s.publicIpOf(instance.id),
    groups: s.groupsOf(instance).map((g) => g.name),
    key: instance.keyName ? s.keyOf(instance.accountId, instance.keyName) : undefined,
    imageLocation: s.imageLocation(instance.imageId, instance.accountId),
    region: s.region,
  };
}

/** Where the metadata service reads an instance's context: the instance, image and key-pair services of the CLC. */
export function metadataSourcesOf(o: {
  instances: Pick<InstanceService, "byAddress" | "publicIpOf" | "groupsOf">;
  images: Pick<ImageService, "locationOf">;
  keyPairs: Pick<KeyPairService, "find">;
  region: string;
}): MetadataSources {
  return {
    byAddress: (ip) => o.instances.byAddress(ip),
    publicIpOf: (id) => o.instances.publicIpOf(id),
    groupsOf: (i) => o.instances.groupsOf(i),
    imageLocation: (imageId) => o.images.locationOf(imageId),
    keyOf: (accountId, name) => {
      const k = o.keyPairs.find(accountId, name); // deleted since launch: none
      return k && { name: k.name, publicKey: k.publicKey };
    },
    region: o.region,
  };
}
