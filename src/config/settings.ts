/**
 * Every setting of `euca run` / `euca init`, declared once: its flag, its EUCA_*
 * environment variable, its config-file key, its default and its help. Precedence:
 * flags > EUCA_* environment > config file > defaults (docs/configuration.md).
 */
import { defaultDataDir } from "../common/data-dir";
import { LOG_LEVELS } from "../common/logger";
import {
  ConfigError,
  address,
  count,
  ifname,
  macMap,
  name,
  netmask,
  oneOf,
  parseIpRanges,
  port,
  portRange,
  positive,
  seconds,
  smtpUrl,
  subnet16,
  yesNo,
} from "./values";

export { ConfigError, parseIpRanges, parseMacMap } from "./values";

/** How a CC places instances on its nodes (Eucalyptus' SCHEDPOLICY). */
export const POLICIES = ["GREEDY", "ROUNDROBIN", "POWERSAVE"] as const;
export type Policy = (typeof POLICIES)[number];

export const ROLES = ["clc", "cc", "nc", "walrus", "sc"] as const;
export type RoleName = (typeof ROLES)[number];
export const HYPERVISORS = ["auto", "xen", "qemu", "fake"] as const;
export type HypervisorName = (typeof HYPERVISORS)[number];
export const QEMU_ACCELS = ["auto", "kvm", "tcg"] as const;
export type QemuAccelSetting = (typeof QEMU_ACCELS)[number];

/**
 * How guests are networked (Eucalyptus' VNET_MODE). ROOTLESS: the laptop cloud's QEMU
 * user networking, security groups as forwarded ports. MANAGED / MANAGED-NOVLAN: the
 * cluster's virtual network on nftables and VXLAN. SYSTEM / STATIC: guests on the site's
 * LAN (its DHCP, or the CC's from VNET_MACMAP), filtered on their node (docs/networking.md).
 */
export const VNET_MODES = ["ROOTLESS", "MANAGED", "MANAGED-NOVLAN", "SYSTEM", "STATIC"] as const;
export type VnetMode = (typeof VNET_MODES)[number];

/** The sign-up form's optional fields (Eucalyptus 1.6's extras). */
export const SIGNUP_FIELDS = ["telephone", "affiliation", "projectLeader", "description"] as const;
export type SignupField = (typeof SIGNUP_FIELDS)[number];

export interface Settings {
  roles: RoleName[];
  dataDir: string;
  host: string;
  ec2Port: number;
  s3Port: number;
  webPort: number;
  webCert: string;
  webKey: string;
  webUrl: string;
  webSessionMinutes: number;
  webLoginAttempts: number;
  webLockoutMinutes: number;
  webAuditMaxRows: number;
  webSignupFields: string;
  smtpUrl: string;
  mailFrom: string;
  ccPort: number;
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
  vnetMacMap: string;
  vnetNetmask: string;
  vnetRouter: string;
  vnetBroadcast: string;
  scMaxVolumeGb: number;
  scMaxTotalGb: number;
  scMaxVolumesPerUser: number;
  scVolumeFormat: "raw" | "qcow2";
  scVolumesDir: string;
  scNbdPorts: string;
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

interface OptionDef<K extends keyof Settings> {
  key: K;
  flag: string; // commander flag, e.g. "--ec2-port <port>"
  file: string; // config-file key and EUCA_<file> environment variable
  help: string;
  default: () => string;
  parse(raw: string, source: string): Settings[K];
}

export function parseRoles(raw: string, source: string): RoleName[] {
  const parts = raw
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new ConfigError(`${source}: no role given; valid roles: all, ${ROLES.join(", ")}`);
  if (parts.includes("all")) {
    if (parts.length > 1) throw new ConfigError(`${source}: 'all' cannot be combined with other roles`);
    return [...ROLES];
  }
  for (const r of parts) {
    if (!(ROLES as readonly string[]).includes(r)) {
      throw new ConfigError(`${source}: unknown role '${r}'; valid roles: all, or a comma list of ${ROLES.join(", ")}`);
    }
  }
  return ROLES.filter((r) => parts.includes(r));
}

export const OPTIONS: { [K in keyof Settings]: OptionDef<K> } = {
  roles: {
    key: "roles",
    flag: "--role <roles>",
    file: "ROLE",
    default: () => "all",
    parse: parseRoles,
    help: `roles this process runs: 'all', or a comma list of ${ROLES.join(", ")}`,
  },
  dataDir: {
    key: "dataDir",
    flag: "--data-dir <dir>",
    file: "DATA_DIR",
    default: () => defaultDataDir(),
    parse: (r) => r,
    help: "data directory: databases, keys, credentials, objects (default /var/lib/euca as root, else ~/.local/share/euca)",
  },
  host: {
    key: "host",
    flag: "--host <address>",
    file: "HOST",
    default: () => "127.0.0.1",
    parse: (r) => r,
    help: "address to listen on and to put in the endpoint URLs of credentials",
  },
  ec2Port: {
    key: "ec2Port",
    flag: "--ec2-port <port>",
    file: "EC2_PORT",
    default: () => "8773",
    parse: port,
    help: "EC2 Query API, /services/Walrus, metadata and heartbeat (0 picks a free port)",
  },
  s3Port: {
    key: "s3Port",
    flag: "--s3-port <port>",
    file: "S3_PORT",
    default: () => "8776",
    parse: port,
    help: "S3 API at the root path, for tools that cannot add a path prefix (0 picks a free port)",
  },
  webPort: {
    key: "webPort",
    flag: "--web-port <port>",
    file: "WEB_PORT",
    default: () => "8443",
    parse: port,
    help: "HTTPS web interface: sign-up, credentials, instances, buckets, the admin's console (0 picks a free port)",
  },
  webCert: {
    key: "webCert",
    flag: "--web-cert <file>",
    file: "WEB_CERT",
    default: () => "",
    parse: (r) => r,
    help: "PEM certificate (chain) for the web interface; empty: one signed by the cloud CA, made at first start (data dir web/)",
  },
  webKey: {
    key: "webKey",
    flag: "--web-key <file>",
    file: "WEB_KEY",
    default: () => "",
    parse: (r) => r,
    help: "PEM private key of --web-cert",
  },
  webUrl: {
    key: "webUrl",
    flag: "--web-url <url>",
    file: "WEB_URL",
    default: () => "",
    parse: (r) => r.replace(/\/+$/, ""),
    help: "the web interface's address as users reach it, for links in mail (default https://<host>:<web port>)",
  },
  webSessionMinutes: {
    key: "webSessionMinutes",
    flag: "--web-session-minutes <n>",
    file: "WEB_SESSION_MINUTES",
    default: () => "30",
    parse: positive,
    help: "a web session ends after this many minutes without a request (and after 12 hours in any case)",
  },
  webLoginAttempts: {
    key: "webLoginAttempts",
    flag: "--web-login-attempts <n>",
    file: "WEB_LOGIN_ATTEMPTS",
    default: () => "5",
    parse: positive,
    help:
      "wrong passwords in a row before a web login pauses: 1 s after the next, then twice as long after each " +
      "(a correct password from an address the user logged in from before goes through)",
  },
  webLockoutMinutes: {
    key: "webLockoutMinutes",
    flag: "--web-lockout-minutes <n>",
    file: "WEB_LOCKOUT_MINUTES",
    default: () => "15",
    parse: positive,
    help: "the longest pause of a web login after wrong passwords",
  },
  webAuditMaxRows: {
    key: "webAuditMaxRows",
    flag: "--web-audit-max-rows <n>",
    file: "WEB_AUDIT_MAX_ROWS",
    default: () => "100000",
    parse: positive,
    help: "entries the audit log of logins and admin actions keeps (the oldest go first)",
  },
  webSignupFields: {
    key: "webSignupFields",
    flag: "--web-signup-fields <list>",
    file: "WEB_SIGNUP_FIELDS",
    default: () => "telephone,affiliation,projectLeader,description",
    parse: signupFields,
    help: `extra fields of the sign-up form, a comma list of ${SIGNUP_FIELDS.join(", ")} (empty: none)`,
  },
  smtpUrl: {
    key: "smtpUrl",
    flag: "--smtp-url <url>",
    file: "SMTP_URL",
    default: () => "",
    parse: smtpUrl,
    help: "where the cloud sends mail (smtp://[user:pass@]host:port or smtps://…); empty: mail stays in the admin's outbox in the web interface",
  },
  mailFrom: {
    key: "mailFrom",
    flag: "--mail-from <address>",
    file: "MAIL_FROM",
    default: () => "euca@localhost",
    parse: (r) => r,
    help: "the From address of the cloud's mail",
  },
  ccPort: {
    key: "ccPort",
    flag: "--cc-port <port>",
    file: "CC_PORT",
    default: () => "8774",
    parse: port,
    help: "cluster controller's internal port, opened only when the CLC runs in another process",
  },
  ncPort: {
    key: "ncPort",
    flag: "--nc-port <port>",
    file: "NC_PORT",
    default: () => "8775",
    parse: port,
    help: "node controller's internal port, opened only when the CC runs in another process",
  },
  hypervisor: {
    key: "hypervisor",
    flag: "--hypervisor <name>",
    file: "HYPERVISOR",
    default: () => "auto",
    parse: oneOf(HYPERVISORS, "hypervisor"),
    help: `hypervisor driver for the NC: ${HYPERVISORS.join(", ")} (auto: xen on a Xen dom0, where "xl info" answers; else qemu when installed; else fake; docs/hypervisors.md)`,
  },
  qemuAccel: {
    key: "qemuAccel",
    flag: "--qemu-accel <accel>",
    file: "QEMU_ACCEL",
    default: () => "auto",
    parse: oneOf(QEMU_ACCELS, "QEMU acceleration"),
    help: "kvm, tcg, or auto: kvm only when a probe guest runs under it at least about as fast as under tcg",
  },
  logLevel: {
    key: "logLevel",
    flag: "--log-level <level>",
    file: "LOG_LEVEL",
    default: () => "info",
    parse: oneOf(LOG_LEVELS, "log level"),
    help: `log level: ${LOG_LEVELS.join(", ")}`,
  },
  clusterName: {
    key: "clusterName",
    flag: "--cluster-name <name>",
    file: "CLUSTER_NAME",
    default: () => "cluster1",
    parse: name("cluster name"),
    help: "name of this process's cluster, which is also its availability zone",
  },
  region: {
    key: "region",
    flag: "--region <name>",
    file: "REGION",
    default: () => "eucalyptus",
    parse: name("region name"),
    help: "region name reported by DescribeRegions and written to credentials",
  },
  s3Domain: {
    key: "s3Domain",
    flag: "--s3-domain <domain>",
    file: "S3_DOMAIN",
    default: () => "walrus.localhost",
    parse: (r) => r.toLowerCase(),
    help: "domain for virtual-host S3 addressing: bucket.<domain> (path-style always works)",
  },
  walrusMaxBuckets: {
    key: "walrusMaxBuckets",
    flag: "--walrus-max-buckets <n>",
    file: "WALRUS_MAX_BUCKETS",
    default: () => "5",
    parse: count,
    help: "buckets one account may own; admins are exempt; 0 = no limit (Eucalyptus default 5)",
  },
  walrusMaxBucketMb: {
    key: "walrusMaxBucketMb",
    flag: "--walrus-max-bucket-mb <mb>",
    file: "WALRUS_MAX_BUCKET_MB",
    default: () => "5120",
    parse: count,
    help: "size one bucket may reach, MiB; admins are exempt; 0 = no limit (Eucalyptus default 5 GiB)",
  },
  walrusImageCacheMb: {
    key: "walrusImageCacheMb",
    flag: "--walrus-image-cache-mb <mb>",
    file: "WALRUS_IMAGE_CACHE_MB",
    default: () => "30720",
    parse: count,
    help: "space for decrypted images in Walrus' cache, MiB; least recently used images are evicted (Eucalyptus default 30 GiB)",
  },
  walrusLifecycleSeconds: {
    key: "walrusLifecycleSeconds",
    flag: "--walrus-lifecycle-seconds <s>",
    file: "WALRUS_LIFECYCLE_SECONDS",
    default: () => "60",
    parse: seconds,
    help: "how often the lifecycle sweeper runs a round (each round examines at most 1,000 versions), seconds",
  },
  walrusLifecycleDaySeconds: {
    key: "walrusLifecycleDaySeconds",
    flag: "--walrus-lifecycle-day-seconds <s>",
    file: "WALRUS_LIFECYCLE_DAY_SECONDS",
    default: () => "86400",
    parse: seconds,
    help: 'length of a lifecycle "day" in seconds (86400; shorter only to test lifecycle rules)',
  },
  ncCacheMb: {
    key: "ncCacheMb",
    flag: "--nc-cache-mb <mb>",
    file: "NC_CACHE_MB",
    default: () => "99999",
    parse: count,
    help: "space for images cached on a node, MiB; least recently used are evicted (Eucalyptus' NC_CACHE_SIZE)",
  },
  schedPolicy: {
    key: "schedPolicy",
    flag: "--sched-policy <policy>",
    file: "SCHEDPOLICY",
    default: () => "ROUNDROBIN",
    parse: oneOf(POLICIES, "scheduling policy"),
    help: `how the CC places instances on nodes: ${POLICIES.join(", ")}`,
  },
  publicIps: {
    key: "publicIps",
    flag: "--public-ips <ranges>",
    file: "PUBLIC_IPS",
    default: () => "",
    parse: parseIpRanges,
    help: "public address pool, e.g. '192.0.2.10-192.0.2.50,192.0.2.60' (default: 127.65.0.2-127.65.0.254 while private addresses are loopback, as on a laptop cloud; else none)",
  },
  maxAddressesPerUser: {
    key: "maxAddressesPerUser",
    flag: "--max-addresses-per-user <n>",
    file: "MAX_ADDRESSES_PER_USER",
    default: () => "5",
    parse: count,
    help: "elastic addresses one account may hold (admins exempt; Eucalyptus default 5)",
  },
  vnetSubnet: {
    key: "vnetSubnet",
    flag: "--vnet-subnet <cidr>",
    file: "VNET_SUBNET",
    default: () => "",
    parse: subnet16,
    help: "private /16 the CC cuts into per-security-group networks (default 127.64.0.0/16: loopback, for fake and rootless QEMU guests; 10.128.0.0/16 with xen or a MANAGED mode)",
  },
  vnetAddrsPerNet: {
    key: "vnetAddrsPerNet",
    flag: "--vnet-addrs-per-net <n>",
    file: "VNET_ADDRSPERNET",
    default: () => "32",
    parse: count,
    help: "addresses in each security group's network (a power of two, 8-65536; Eucalyptus default 32)",
  },
  vnetMode: {
    key: "vnetMode",
    flag: "--vnet-mode <mode>",
    file: "VNET_MODE",
    default: () => "ROOTLESS",
    parse: vnetMode,
    help: `guest networking: ROOTLESS (QEMU user networking, groups as forwarded ports: the laptop cloud), MANAGED (a VXLAN segment per security group, the CC as gateway), MANAGED-NOVLAN (one segment, groups apart by filtering), SYSTEM (guests on the site's LAN bridge, addressed by the site's DHCP) or STATIC (on the LAN bridge, addressed by the CC from VNET_MACMAP) (docs/networking.md)`,
  },
  vnetPubInterface: {
    key: "vnetPubInterface",
    flag: "--vnet-pub-interface <dev>",
    file: "VNET_PUBINTERFACE",
    default: () => "eth0",
    parse: ifname,
    help: "MANAGED*: the CC's public interface, where elastic addresses are added",
  },
  vnetPrivInterface: {
    key: "vnetPrivInterface",
    flag: "--vnet-priv-interface <dev>",
    file: "VNET_PRIVINTERFACE",
    default: () => "eth0",
    parse: ifname,
    help: "MANAGED with --vnet-segment vlan: each host's interface on the VLAN-clean LAN the tagged segments run on; STATIC: the CC's interface on the LAN, where it answers DHCP",
  },
  vnetSegment: {
    key: "vnetSegment",
    flag: "--vnet-segment <kind>",
    file: "VNET_SEGMENT",
    default: () => "vxlan",
    parse: oneOf(["vxlan", "vlan"] as const, "segment kind"),
    help: "MANAGED: how a group's segment crosses hosts: vxlan (any IP network; only the CC needs a public address) or vlan (802.1Q tags on --vnet-priv-interface, as Eucalyptus did; needs VLAN-clean switches and a kernel with 802.1Q)",
  },
  vnetLocalIp: {
    key: "vnetLocalIp",
    flag: "--vnet-local-ip <address>",
    file: "VNET_LOCALIP",
    default: () => "",
    parse: address,
    help: "MANAGED*: the CC's address on the cluster's private network, the end of the nodes' VXLAN links (default: --host)",
  },
  vnetCloudIp: {
    key: "vnetCloudIp",
    flag: "--vnet-cloud-ip <address>",
    file: "VNET_CLOUDIP",
    default: () => "",
    parse: address,
    help: "MANAGED*: where the CC sends guests' 169.254.169.254 requests: the CLC's address, on the EC2 port (default: --host; not loopback)",
  },
  vnetDns: {
    key: "vnetDns",
    flag: "--vnet-dns <address>",
    file: "VNET_DNS",
    default: () => "",
    parse: address,
    help: "MANAGED* and STATIC: the name server DHCP gives guests (default: none)",
  },
  vnetDhcpUser: {
    key: "vnetDhcpUser",
    flag: "--vnet-dhcp-user <user>",
    file: "VNET_DHCPUSER",
    default: () => "nobody",
    parse: name("user name"),
    help: "MANAGED* and STATIC: the unprivileged user the CC's dnsmasq runs as",
  },
  vnetBridge: {
    key: "vnetBridge",
    flag: "--vnet-bridge <dev>",
    file: "VNET_BRIDGE",
    default: () => "br0",
    parse: ifname,
    help: "SYSTEM and STATIC: the node's existing bridge on the site's LAN, which guests' taps join (the site makes it; euca never changes it)",
  },
  vnetMacMap: {
    key: "vnetMacMap",
    flag: "--vnet-mac-map <pairs>",
    file: "VNET_MACMAP",
    default: () => "",
    parse: macMap,
    help: "STATIC: the addresses guests may have, as MAC=IP pairs separated by spaces or commas; each instance takes a free pair, first come first served",
  },
  vnetNetmask: {
    key: "vnetNetmask",
    flag: "--vnet-netmask <mask>",
    file: "VNET_NETMASK",
    default: () => "255.255.255.0",
    parse: netmask,
    help: "STATIC: the LAN's netmask, given to guests by DHCP",
  },
  vnetRouter: {
    key: "vnetRouter",
    flag: "--vnet-router <address>",
    file: "VNET_ROUTER",
    default: () => "",
    parse: address,
    help: "STATIC: the LAN's router, given to guests by DHCP (default: none)",
  },
  vnetBroadcast: {
    key: "vnetBroadcast",
    flag: "--vnet-broadcast <address>",
    file: "VNET_BROADCAST",
    default: () => "",
    parse: address,
    help: "STATIC: the LAN's broadcast address, given to guests by DHCP (default: from the netmask)",
  },
  scMaxVolumeGb: {
    key: "scMaxVolumeGb",
    flag: "--sc-max-volume-gb <gb>",
    file: "SC_MAX_VOLUME_GB",
    default: () => "10",
    parse: count,
    help: "largest volume a storage controller makes, GiB (Eucalyptus' MAX_VOLUME_SIZE, default 10)",
  },
  scMaxTotalGb: {
    key: "scMaxTotalGb",
    flag: "--sc-max-total-gb <gb>",
    file: "SC_MAX_TOTAL_GB",
    default: () => "50",
    parse: count,
    help: "all volumes of a storage controller together, GiB (Eucalyptus' MAX_TOTAL_VOLUME_SIZE, default 50)",
  },
  scMaxVolumesPerUser: {
    key: "scMaxVolumesPerUser",
    flag: "--sc-max-volumes-per-user <n>",
    file: "SC_MAX_VOLUMES_PER_USER",
    default: () => "20",
    parse: count,
    help: "volumes one account may hold (admins exempt; 0 = no limit)",
  },
  scVolumeFormat: {
    key: "scVolumeFormat",
    flag: "--sc-volume-format <format>",
    file: "SC_VOLUME_FORMAT",
    default: () => "raw",
    parse: oneOf(["raw", "qcow2"] as const, "volume format"),
    help: "how volumes are kept: raw (sparse files, the default) or qcow2 (qemu-img)",
  },
  scVolumesDir: {
    key: "scVolumesDir",
    flag: "--sc-volumes-dir <dir>",
    file: "SC_VOLUMES_DIR",
    default: () => "",
    parse: (r) => r,
    help: "where the storage controller keeps volumes (default: volumes/ in the data directory)",
  },
  scNbdPorts: {
    key: "scNbdPorts",
    flag: "--sc-nbd-ports <from-to>",
    file: "SC_NBD_PORTS",
    default: () => "10810-10999",
    parse: portRange,
    help: "TCP ports the storage controller serves volumes on to nodes on other hosts (NBD with TLS-PSK, one per attachment), on --host",
  },
  scExport: {
    key: "scExport",
    flag: "--sc-export <kind>",
    file: "SC_EXPORT",
    default: () => "nbd",
    parse: oneOf(["nbd", "iscsi"] as const, "export kind"),
    help: "how volumes reach nodes on other hosts: nbd (qemu-storage-daemon, TLS-PSK; the default) or iscsi (tgt with CHAP, as Eucalyptus; needs tgtd and QEMU's libiscsi, qemu-block-extra, on the nodes)",
  },
  scIscsiPort: {
    key: "scIscsiPort",
    flag: "--sc-iscsi-port <port>",
    file: "SC_ISCSI_PORT",
    default: () => "3260",
    parse: count,
    help: "SC_EXPORT=iscsi: the port tgtd listens on, on --host",
  },
  nodePollSeconds: {
    key: "nodePollSeconds",
    flag: "--node-poll-seconds <s>",
    file: "NODE_POLL_SECONDS",
    default: () => "5",
    parse: seconds,
    help: "how often the CC polls its nodes' resources and instances, and the CLC its clusters' instance states",
  },
  nodeDownSeconds: {
    key: "nodeDownSeconds",
    flag: "--node-down-seconds <s>",
    file: "NODE_DOWN_SECONDS",
    default: () => "60",
    parse: seconds,
    help: "a node silent this long is down: nothing new is placed there and calls for its instances fail at once; its instances are kept, never given up because of silence",
  },
  unknownInstanceSeconds: {
    key: "unknownInstanceSeconds",
    flag: "--unknown-instance-seconds <s>",
    file: "UNKNOWN_INSTANCE_SECONDS",
    default: () => "900",
    parse: seconds,
    help: "a guest a node runs that its cluster has no record of is reported, then destroyed after this long (Eucalyptus 4's terminate-done)",
  },
  instanceReachabilitySeconds: {
    key: "instanceReachabilitySeconds",
    flag: "--instance-reachability-seconds <s>",
    file: "INSTANCE_REACHABILITY_SECONDS",
    default: () => "300",
    parse: seconds,
    help: "an instance its node has not reported for this long shows impaired in DescribeInstanceStatus (still running)",
  },
  powerIdleSeconds: {
    key: "powerIdleSeconds",
    flag: "--power-idle-seconds <s>",
    file: "POWER_IDLETHRESH",
    default: () => "300",
    parse: seconds,
    help: "POWERSAVE: a node without instances this long is powered down (Eucalyptus' POWER_IDLETHRESH)",
  },
  powerWakeSeconds: {
    key: "powerWakeSeconds",
    flag: "--power-wake-seconds <s>",
    file: "POWER_WAKETHRESH",
    default: () => "300",
    parse: seconds,
    help: "POWERSAVE: a woken node that does not answer within this long is considered down (Eucalyptus' POWER_WAKETHRESH)",
  },
  fakeNodes: {
    key: "fakeNodes",
    flag: "--fake-nodes <n>",
    file: "FAKE_NODES",
    default: () => "1",
    parse: count,
    help: "with --hypervisor fake and the cc role: simulate this many nodes in this process (scale tests)",
  },
  walrusUrl: {
    key: "walrusUrl",
    flag: "--walrus-url <url>",
    file: "WALRUS_URL",
    default: () => "",
    parse: (r) => r.replace(/\/+$/, ""),
    help: "where this host's nodes fetch images when Walrus runs elsewhere: the head's EC2 URL origin, signed with the cluster's installed key",
  },
  maxMem: {
    key: "maxMem",
    flag: "--max-mem <mb>",
    file: "MAX_MEM",
    default: () => "0",
    parse: count,
    help: "cap on the memory a node offers guests, MB (0: no cap); with the fake hypervisor, the simulated node's memory",
  },
  maxCores: {
    key: "maxCores",
    flag: "--max-cores <n>",
    file: "MAX_CORES",
    default: () => "0",
    parse: count,
    help: "cap on the cores a node offers guests (0: no cap); with the fake hypervisor, the simulated node's cores",
  },
  maxDisk: {
    key: "maxDisk",
    flag: "--max-disk <gb>",
    file: "MAX_DISK",
    default: () => "0",
    parse: count,
    help: "cap on the instance disk space a node offers, GB (0: no cap); with the fake hypervisor, the simulated node's disk",
  },
  longIds: {
    key: "longIds",
    flag: "--long-ids [yes|no]",
    file: "LONG_IDS",
    default: () => "no",
    parse: yesNo,
    help: "new resource ids with 17 hex digits (i-0123456789abcdef0) instead of 8, as AWS' long ids; earlier ids keep working",
  },
};

function vnetMode(raw: string, source: string): VnetMode {
  return oneOf(VNET_MODES, "VNET_MODE")(raw.toUpperCase(), source);
}

function signupFields(raw: string, source: string): string {
  const parts = raw
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  for (const f of parts)
    if (!(SIGNUP_FIELDS as readonly string[]).includes(f))
      throw new ConfigError(`${source}: unknown sign-up field '${f}'; valid fields: ${SIGNUP_FIELDS.join(", ")}`);
  return parts.join(",");
}

export const OPTION_KEYS = Object.keys(OPTIONS) as Array<keyof Settings>;
export const FILE_KEYS = OPTION_KEYS.map((k) => OPTIONS[k].file);

/**
 * The private subnet when VNET_SUBNET is unset: loopback (127.64.0.0/16) unless guests
 * sit on real bridges (xen, or the MANAGED modes), so fake instances and rootless QEMU
 * guests are told apart by the metadata service through their addresses.
 */
export function privateSubnet(
  s: Pick<Settings, "vnetSubnet" | "hypervisor"> & Partial<Pick<Settings, "vnetMode">>,
): string {
  return s.vnetSubnet || (s.hypervisor === "xen" || isBridged(s) ? "10.128.0.0/16" : "127.64.0.0/16");
}

export const isManaged = (s: Partial<Pick<Settings, "vnetMode">>): boolean =>
  s.vnetMode === "MANAGED" || s.vnetMode === "MANAGED-NOVLAN";
/** SYSTEM and STATIC: guests on the site's LAN bridge. */
export const isLan = (s: Partial<Pick<Settings, "vnetMode">>): boolean =>
  s.vnetMode === "SYSTEM" || s.vnetMode === "STATIC";
/** Every mode but ROOTLESS: guests on bridges, the hosts' networks made by euca (root). */
export const isBridged = (s: Partial<Pick<Settings, "vnetMode">>): boolean => isManaged(s) || isLan(s);

/**
 * The public address pool when PUBLIC_IPS is unset: with loopback private addresses (the
 * laptop cloud: fake or rootless QEMU guests), a loopback pool, so instances get a public
 * address at launch and elastic addresses work, reachable from this host only.
 */
export function publicAddressRanges(
  s: Pick<Settings, "publicIps" | "hypervisor" | "vnetSubnet"> & Partial<Pick<Settings, "vnetMode">>,
): string {
  return s.publicIps || (privateSubnet(s).startsWith("127.") ? "127.65.0.2-127.65.0.254" : "");
}
