/** The node controllers of this process (./nc-node.ts, one per slot), from the settings they read. */
import { checkNodeHost, guestMetadataService, isBridged, nodeAnswersMetadata } from "../config/network";
import { localNodeSlots, type LocalNode } from "../roles/nc/local-nodes";
import type { HostProbe } from "../roles/nc/host-probe";
import type { NodeNetwork } from "../roles/nc/node-network";
import type { WalrusClient } from "../roles/walrus/client";
import type { MetadataClient } from "../roles/clc/metadata/metadata-rpc";
import { createNodeMetadataResponder } from "../api/metadata/node-responder";
import type { Assembly } from "./assembly";
import { assembleNode } from "./nc-node";

export async function assembleNodes(
  a: Assembly,
  o: { probe: HostProbe; walrus: () => WalrusClient | undefined; metadata: () => MetadataClient | undefined },
): Promise<{ nodes: LocalNode[]; hypervisor: string }> {
  const s = a.settings;
  const slots = localNodeSlots(s, a.layout, a.has("cc"));
  checkNodeHost(s, slots.length > 1);
  let network: NodeNetwork | undefined;
  const responder = nodeAnswersMetadata(s)
    ? createNodeMetadataResponder({
        clock: a.clock,
        ids: a.ids,
        log: a.log,
        guestAt: (ip) => network?.guestAt(ip),
        client: o.metadata,
      })
    : undefined;
  if (responder) a.cleanups.push(responder.stop); // closed before the network goes (cleanups run in reverse)
  const nodes: LocalNode[] = [];
  let hypervisor = "";
  for (const slot of slots) {
    const made = await assembleNode(a, slot, {
      probe: o.probe,
      walrus: o.walrus,
      metadata: () => guestMetadataService(s, a.has("clc") ? a.endpoints()?.metadataUrl : undefined),
      hostNetwork: isBridged(s),
      networkApplied: responder?.follow,
    });
    nodes.push(made.node);
    hypervisor = made.hypervisor;
  }
  network = nodes[0]?.network;
  return { nodes, hypervisor };
}
