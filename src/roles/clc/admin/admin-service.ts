/**
 * What the cloud's administrator does through the signed admin actions (api/ec2/actions/
 * admin.ts), from any host: the properties (the cloud's settings: typed, validated by
 * their own parsers, kept in the CLC's config file, live where they can be), the status
 * of every component (Eucalyptus' describe-services), and hosts joining and leaving.
 */
import { InvalidParameterError } from "../../../common/errors";
import type { SettingsStore } from "../../../config/settings-store";
import { createProperties } from "./properties";
import type { IdentityService } from "../identity/identity-service";
import type { VmTypeService } from "../compute/vm-types";
import { identityUri } from "../../../rpc/identity";
import type { CallContext } from "../../../rpc/types";
import type { RegisteredCluster } from "../compute/zones";
import type { JoinKind, Joins } from "../clusters/joins";

export interface ServiceStatus {
  /** clc, walrus, cc, sc, nc */
  type: string;
  name: string;
  /** available, unavailable, or a node's health (up, suspect, down, fenced, asleep). */
  state: string;
  detail: string;
  lastContact?: string;
  version?: string;
  /** When its host certificate expires (hosts that joined, and the head). */
  certificateExpires?: string;
}

/** What a cluster host reports of the site settings it runs with other values than the head's. */
const restartFor = (pending: readonly string[] = []) =>
  pending.length ? `; restart its host to take the head's ${pending.join(", ")}` : "";

export function createAdminService(o: {
  settings: SettingsStore;
  clusters: () => RegisteredCluster[];
  joins: Joins;
  identity: Pick<IdentityService, "listUsers" | "createUser" | "deleteUser">;
  vmTypes: VmTypeService;
  version: string;
}) {
  const props = createProperties(o.settings);
  return {
    properties: props.list,
    setProperty: props.set,
    resetProperty: props.reset,

    /** Every component, asked now: the head's own, each cluster (its CC, SC) and its nodes. */
    async services(ctx: CallContext): Promise<ServiceStatus[]> {
      const expiry = o.joins.certificateExpiry();
      const cert = (uri: string) => expiry.get(uri)?.toISOString();
      const roles = o.settings.values.roles;
      const out: ServiceStatus[] = [
        {
          type: "clc",
          name: "clc",
          state: "available",
          detail: "this process",
          version: o.version,
          certificateExpires: cert("euca://clc"),
        },
      ];
      if (roles.includes("walrus"))
        out.push({
          type: "walrus",
          name: "walrus",
          state: "available",
          detail: "this process",
          version: o.version,
          certificateExpires: cert("euca://walrus"),
        });
      await Promise.all(
        o.clusters().map(async (c) => {
          const cc = identityUri({ role: "cc", cluster: c.name });
          try {
            const [info, { nodes }] = await Promise.all([
              c.client.describeCluster({}, ctx),
              c.client.describeNodes({}, ctx),
            ]);
            out.push({
              type: "cc",
              name: c.name,
              state: "available",
              detail: `at ${info.host}, ${info.nodes} node(s)${restartFor(info.settingsPending)}`,
              version: info.version,
              certificateExpires: cert(cc),
            });
            out.push({
              type: "sc",
              name: c.name,
              state: "available",
              detail: `beside its CC`,
              certificateExpires: cert(identityUri({ role: "sc", cluster: c.name })),
            });
            for (const n of nodes)
              out.push({
                type: "nc",
                name: `${c.name}/${n.name}`,
                state: `${n.state}${n.drained ? ",drained" : ""}`,
                detail: `${n.instances} instance(s)${n.unknown.length ? `, ${n.unknown.length} unknown` : ""}`,
                lastContact: n.lastContact,
                certificateExpires: cert(identityUri({ role: "nc", cluster: c.name, node: n.name })),
              });
          } catch (e) {
            out.push({
              type: "cc",
              name: c.name,
              state: "unavailable",
              detail: (e as Error).message,
              certificateExpires: cert(cc),
            });
          }
        }),
      );
      const order = ["clc", "walrus", "cc", "sc", "nc"];
      return out.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type) || a.name.localeCompare(b.name));
    },

    /** A cluster's network as its running CC records it: the one named, or the only one. */
    async clusterNetwork(name: string | undefined, ctx: CallContext) {
      const all = o.clusters();
      const c = name ? all.find((x) => x.name === name) : all.length === 1 ? all[0] : undefined;
      if (!c)
        throw new InvalidParameterError(
          "ClusterName",
          `${name ? `No cluster is named ${name}` : "Name the cluster"} (clusters: ${all.map((x) => x.name).join(", ") || "none"})`,
        );
      return { clusterName: c.name, ...(await c.client.describeNetwork({}, ctx)).report };
    },

    /** Every user of every account (the cloud admin's view). */
    users: () =>
      o.identity.listUsers().map((u) => ({
        name: u.name,
        accountName: u.accountName,
        accountId: u.accountId,
        isAdmin: u.isAdmin,
        enabled: u.enabled,
        createdAt: u.createdAt,
      })),
    /** A user with a key, a certificate and a credentials directory on the head. */
    async createUser(name: string, opts: { account?: string; admin?: boolean }) {
      const made = await o.identity.createUser(name, opts);
      return { name, accountId: made.user.accountId, isAdmin: made.user.isAdmin, credentialsDir: made.credentials.dir };
    },
    deleteUser: (name: string) => o.identity.deleteUser(name),
    vmTypes: () => o.vmTypes.list(),
    setVmType: (t: { name: string; cpus: number; memoryMb: number; diskGb: number }) => o.vmTypes.set(t),

    joinToken(kind: JoinKind, cluster: string, node: string | undefined, ttlMs?: number) {
      if (kind === "node" && !node) throw new InvalidParameterError("NodeName", "A node's token names the node");
      return o.joins.issue({ kind, cluster, node, ttlMs });
    },

    removeHost(kind: JoinKind, cluster: string, node: string | undefined, ctx: CallContext) {
      if (kind === "node" && !node) throw new InvalidParameterError("NodeName", "Name the node to remove");
      return o.joins.remove({ kind, cluster, node }, ctx);
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
