/**
 * The settings' names and value sets: the roles, drivers, policies and network modes a
 * setting may name, and the `Settings` record every part of euca reads (parsed by
 * options.ts, one entry per setting).
 */

import { LOG_LEVELS } from "../common/logger";
import type { MacMap } from "./values";

/** How a CC places instances on its nodes (Eucalyptus' SCHEDPOLICY). */
export const POLICIES = ["GREEDY", "ROUNDROBIN", "POWERSAVE"] as const;
export type Policy = (typeof POLICIES)[number];

/** Where a storage controller keeps volumes (roles/sc/backends/registry.ts has one entry per name). */
export const VOLUME_BACKEND_NAMES = ["files"] as const;
export type VolumeBackendName = (typeof VOLUME_BACKEND_NAMES)[number];

/** HTTPS on the user endpoints (config/endpoints.ts says when auto means on). */
export const TLS_MODES = ["auto", "on", "off"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

export const ROLES = ["clc", "cc", "nc", "walrus", "sc"] as const;
export type RoleName = (typeof ROLES)[number];
export const HYPERVISORS = ["auto", "xen", "qemu", "fake"] as const;
export type HypervisorName = (typeof HYPERVISORS)[number];
export const QEMU_ACCELS = ["auto", "kvm", "tcg"] as const;
export type QemuAccelSetting = (typeof QEMU_ACCELS)[number];

/** How guests are networked (Eucalyptus' VNET_MODE): the modes and what each does are in net/modes.ts. */
export { VNET_MODE_NAMES, type VnetMode } from "../net/modes";
import type { VnetMode } from "../net/modes";

/** The sign-up form's optional fields (Eucalyptus 1.6's extras). */
export const SIGNUP_FIELDS = ["telephone", "affiliation", "projectLeader", "description"] as const;
export type SignupField = (typeof SIGNUP_FIELDS)[number];

export interface Settings {
  roles: RoleName[];
  dataDir: string;
  host: string;
  ec2Port: number;
  s3Port: number;
  tls: TlsMode;
  webPort: number;
  webCert: string;
  webKey: string;
  webUrl: string;
  webSessionMinutes: number;
  webLoginAttempts: number;
  webLockoutMinutes: number;
  webAuditMaxRows: number;
  webSignupFields: readonly SignupField[];
  smtpUrl: string;
  mailFrom: string;
  ccPort: number;
  internalPort: number;
  clcUrl: string;
  ncPort: number;
  hypervisor: HypervisorName;
  qemuAccel: QemuAccelSetting;
  logLevel: (typeof LOG_LEVELS)[number];
  clusterName: string;
  region: string;
  s3Domain: string;
  walrusMaxBuckets: number;
  walrusMaxBucketMb: number;
  walrusImageCacheMb: number;
  walrusLifecycleSeconds: number;
  walrusLifecycleDaySeconds: number;
  ncCacheMb: number;
  schedPolicy: Policy;
  publicIps: string;
  maxAddressesPerUser: number;
  vnetSubnet: string;
  vnetAddrsPerNet: number;
  vnetMode: VnetMode;
  vnetPubInterface: string;
  vnetPrivInterface: string;
  vnetSegment: "vxlan" | "vlan";
  vnetLocalIp: string;
  vnetCloudIp: string;
  vnetDns: string;
  vnetDhcpUser: string;
  vnetBridge: string;
  vnetMacMap: MacMap;
  vnetNetmask: string;
  vnetRouter: string;
  vnetBroadcast: string;
  scMaxVolumeGb: number;
  scMaxTotalGb: number;
  scMaxVolumesPerUser: number;
  scBackend: VolumeBackendName;
  scVolumeFormat: "raw" | "qcow2";
  scVolumesDir: string;
  scNbdPorts: readonly [number, number];
  scExport: "nbd" | "iscsi";
  scIscsiPort: number;
  nodePollSeconds: number;
  nodeDownSeconds: number;
  unknownInstanceSeconds: number;
  instanceReachabilitySeconds: number;
  powerIdleSeconds: number;
  powerWakeSeconds: number;
  fakeNodes: number;
  walrusUrl: string;
  maxMem: number;
  maxCores: number;
  maxDisk: number;
  longIds: boolean;
}
