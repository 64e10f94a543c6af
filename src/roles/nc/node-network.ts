/**
 * A node's part of its cluster's network (every mode but ROOTLESS): the view the CC last
 * sent is recorded (so a restarted node, or one rebooted while its guests were adopted,
 * applies it again before the CC calls) and rendered into this host's segments (or LAN
 * ports) and guest filters. Changes apply one at a time, in the order they arrived.
 *
 * On the site's LAN (SYSTEM, STATIC) it also says which guest a metadata request is from
 * (by the source address its port was given, net/lan.ts) and, in SYSTEM, what address
 * each guest has been seen to use.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { InvalidParameterError } from "../../common/errors";
import { writeFileAtomic } from "../../common/files";
import type { NetworkExecutor } from "../../net/executor";
import { checkView } from "../../net/managed";
import type { ClusterView } from "../../net/view";
import { metadataSources } from "../../net/lan";
import { NODE_TABLE } from "../../net/nft/names";
import { renderNodeNetwork } from "../../net/render";
import { VNET_MODES, isLanMode } from "../../net/modes";
import type { HostNetwork } from "../../net/host-network";
import type { CallContext } from "../../rpc/types";

export interface NodeNetwork {
  set(view: ClusterView, node: string, ctx: CallContext): Promise<void>;
  /** At start: the last view taken, applied again (after a crash, what the executor finds is mended). */
  restore(): Promise<void>;
  /** SYSTEM and STATIC: the guest whose metadata requests arrive from `source`. */
  guestAt(source: string): string | undefined;
  /** SYSTEM: the address each guest not yet addressed in the view has been seen to send from. */
  learned(): Promise<Map<string, string>>;
}

export interface NodeNetworkOptions {
  executor: NetworkExecutor;
  file: string;
  /** A guest's card on this host: its name and its MAC (hypervisor/tap-name.ts). */
  port: { tapOf: (instanceId: string) => string; macOf: (guestMac: string) => string };
  privDev: string;
  log: Logger;
  /** Told what was applied, once it is (the metadata responder listens while the LAN modes' link is there). */
  applied?: (net: HostNetwork) => void;
}

export function createNodeNetwork(o: NodeNetworkOptions): NodeNetwork {
  let chain: Promise<unknown> = Promise.resolve();
  let current: { view: ClusterView; node: string } | undefined;
  let sources = new Map<string, string>();

  function apply(view: ClusterView, node: string, requestId: string): Promise<void> {
    const next = chain
      .catch(() => undefined)
      .then(async () => {
        // The segment kind is the cluster's (in the view); the device its VLANs ride on is this host's.
        const net = renderNodeNetwork(view, node, o.port, o.privDev);
        const r = await o.executor.apply(net);
        current = { view, node };
        sources = new Map([...metadataSources(view, node)].map(([id, src]) => [src, id]));
        if (r.linksAdded.length || r.linksRemoved.length)
          o.log.info(
            { requestId, added: r.linksAdded, removed: r.linksRemoved, commands: r.commands },
            "nc: segments changed",
          );
        o.applied?.(net);
      });
    chain = next;
    return next;
  }

  return {
    async set(view, node, ctx) {
      const problem = checkView(view, node);
      if (problem) throw new InvalidParameterError("view", problem);
      mkdirSync(dirname(o.file), { recursive: true, mode: 0o700 });
      writeFileAtomic(o.file, JSON.stringify({ view, node }), 0o600);
      await apply(view, node, ctx.requestId);
    },
    async restore() {
      if (!existsSync(o.file)) return;
      const { view, node } = JSON.parse(readFileSync(o.file, "utf8")) as { view: ClusterView; node: string };
      await apply(view, node, "nc-start").catch((e: Error) =>
        o.log.error({ err: e.message }, "nc: the recorded network could not be applied; the CC sends it again"),
      );
    },
    guestAt: (source) => (current && isLanMode(current.view.mode) ? sources.get(source) : undefined),
    async learned() {
      const c = current;
      const waiting =
        c && VNET_MODES[c.view.mode].addressing === "site"
          ? c.view.instances.filter((i) => i.node === c.node && !i.ip)
          : [];
      if (!waiting.length) return new Map();
      const byTap = new Map(waiting.map((i) => [o.port.tapOf(i.instanceId), i.instanceId]));
      const out = new Map<string, string>();
      for (const [tap, ip] of await o.executor.setElements("bridge", NODE_TABLE, "learned")) {
        const id = tap && byTap.get(tap);
        if (id && ip && !out.has(id)) out.set(id, ip);
      }
      return out;
    },
  };
}
