/** The node controllers of this process, from the settings they read. */
import { openLocalNodes, type LocalNode } from "../roles/nc/local-nodes";
import type { HostProbe } from "../roles/nc/host-probe";
import type { WalrusClient } from "../roles/walrus/client";
import type { MetadataClient } from "../roles/clc/metadata-rpc";
import type { NodeNetwork } from "../roles/nc/node-network";
import { createMetadataApp } from "../api/metadata/app";
import { listen, type Listening } from "../server/listen";
import { isLan } from "../config/settings";
import { METADATA_IP } from "../net/nft/guest-filter";
import type { HostNetwork } from "../net/host-network";
import type { Assembly } from "./assembly";

export async function assembleNodes(
  a: Assembly,
  o: { probe: HostProbe; walrus: () => WalrusClient | undefined; metadata: () => MetadataClient | undefined },
): Promise<{ nodes: LocalNode[]; hypervisor: string }> {
  const s = a.settings;
  // Guests' 169.254.169.254: the CLC's EC2 port here, or the head's (WALRUS_URL) on a cluster host.
  const metadata = () => {
    const url = a.has("clc") ? a.endpoints()?.ec2Url : s.walrusUrl || undefined;
    if (!url) return undefined;
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80) };
  };
  let network: NodeNetwork | undefined;
  const responder = isLan(s) ? metadataResponder(a, () => network, o.metadata) : undefined;
  const opened = await openLocalNodes({
    options: {
      dataDir: s.dataDir,
      hypervisor: s.hypervisor,
      qemuAccel: s.qemuAccel,
      fakeNodes: s.fakeNodes,
      withCc: a.has("cc"),
      ncCacheMb: s.ncCacheMb,
      maxMem: s.maxMem,
      maxCores: s.maxCores,
      maxDisk: s.maxDisk,
      vnetMode: s.vnetMode,
      vnetPrivInterface: s.vnetPrivInterface,
      vnetSegment: s.vnetSegment,
      vnetBridge: s.vnetBridge,
      host: s.host,
    },
    layout: a.layout,
    probe: o.probe,
    clock: a.clock,
    log: a.log,
    version: a.version,
    walrus: o.walrus,
    metadata,
    cleanups: a.cleanups,
    networkApplied: responder?.follow,
  });
  network = opened.nodes[0]?.network;
  return opened;
}

/**
 * SYSTEM and STATIC: this node answers its guests' 169.254.169.254 (net/lan.ts), listening
 * there while the network holds the address (while the node has guests), asking the CLC.
 */
function metadataResponder(
  a: Assembly,
  network: () => NodeNetwork | undefined,
  client: () => MetadataClient | undefined,
) {
  const app = createMetadataApp({
    clock: a.clock,
    ids: a.ids,
    log: a.log,
    callerOf: (ip) => {
      const instanceId = network()?.guestAt(ip);
      return instanceId === undefined
        ? undefined
        : {
            instanceId,
            async answer(path, requestId) {
              const c = client();
              if (!c) throw new Error("no CLC to ask: this node has no --walrus-url and no installed key");
              return (await c.answer({ instanceId, path }, { requestId })).answer ?? undefined;
            },
          };
    },
  });
  let listening: Promise<Listening | undefined> | undefined;
  const stop = async () => {
    const l = await listening;
    listening = undefined;
    await l?.close();
  };
  a.cleanups.push(stop); // closed before the network goes (cleanups run in reverse)
  return {
    follow(net: HostNetwork) {
      const wanted = net.addresses.some((x) => x.cidr === `${METADATA_IP}/32`);
      if (wanted && !listening) {
        listening = listen(app, METADATA_IP, 80).catch((e: Error) => {
          a.log.error({ err: e.message }, "nc: the metadata responder could not listen on 169.254.169.254:80");
          return undefined;
        });
      } else if (!wanted && listening) void stop();
    },
  };
}
