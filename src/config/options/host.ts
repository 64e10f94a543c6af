/** The host's part: which roles run, where their data and listeners are, the cloud's names and logs. */
import { defaultDataDir } from "../../common/data-dir";
import { LOG_LEVELS } from "../../common/logger";
import { name, oneOf, port, yesNo } from "../values";
import { ROLES, TLS_MODES } from "../setting-types";
import { parseRoles } from "./parsers";
import type { OptionTable } from "./option-def";

export const HOST_OPTIONS = {
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
    help: "EC2 Query API, STS/IAM, /services/Walrus, guests' metadata and the heartbeat (0 picks a free port)",
  },
  tls: {
    key: "tls",
    flag: "--tls <mode>",
    file: "TLS",
    default: () => "auto",
    parse: oneOf(TLS_MODES, "TLS mode"),
    help:
      "HTTPS on the EC2, STS/IAM and S3 endpoints where the CLC or Walrus runs: " +
      "on, off, or auto (on unless --host is a loopback address); " +
      "the certificate is --web-cert's, else one from the cloud CA (credentials then name cloud-cert.pem as AWS_CA_BUNDLE); " +
      "plain HTTP to the EC2 port still reaches guests' metadata, the heartbeat and hosts registered with keys, and nothing else",
  },

  s3Port: {
    key: "s3Port",
    flag: "--s3-port <port>",
    file: "S3_PORT",
    default: () => "8776",
    parse: port,
    help: "S3 API at the root path, for tools that cannot add a path prefix (0 picks a free port)",
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
  internalPort: {
    key: "internalPort",
    flag: "--internal-port <port>",
    file: "INTERNAL_PORT",
    default: () => "8779",
    parse: port,
    help: "the head's port for other hosts, over mutual TLS: joins (euca join), Walrus and metadata for components, the revocation list; opened where the CLC runs and some role runs elsewhere",
  },
  clcUrl: {
    key: "clcUrl",
    flag: "--clc-url <url>",
    file: "CLC_URL",
    default: () => "",
    parse: (r) => r.replace(/\/+$/, ""),
    help: "where a host that joined reaches the head (https://head:8779, written by euca join): metadata for its guests, the revocation list",
  },
  logLevel: {
    key: "logLevel",
    editable: true,
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
    site: true,
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
  walrusUrl: {
    key: "walrusUrl",
    flag: "--walrus-url <url>",
    file: "WALRUS_URL",
    default: () => "",
    parse: (r) => r.replace(/\/+$/, ""),
    help: "where this host reaches Walrus when it runs elsewhere (images for nodes, snapshots for the SC): https://head:8779 on a host that joined (mutual TLS), or the head's EC2 URL origin, signed with an installed key",
  },
  longIds: {
    key: "longIds",
    site: true,
    flag: "--long-ids [yes|no]",
    file: "LONG_IDS",
    default: () => "no",
    parse: yesNo,
    help: "new resource ids with 17 hex digits (i-0123456789abcdef0) instead of 8, as AWS' long ids; earlier ids keep working",
  },
} satisfies OptionTable;
