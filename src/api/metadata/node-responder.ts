/**
 * A node that answers its own guests' 169.254.169.254 (the modes whose guests sit on the
 * site's LAN: net/lan.ts). It listens there while the node's network holds the address
 * (while the node has guests) and asks the CLC for each answer.
 */
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import type { HostNetwork } from "../../net/host-network";
import { METADATA_IP } from "../../net/nft/guest-filter";
import { listen, type Listening } from "../../server/listen";
import type { MetadataClient } from "../../roles/clc/metadata/metadata-rpc";
import { createMetadataApp } from "./app";

export interface AskingClc {
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  /** The instance a guest address belongs to here. */
  guestAt: (ip: string) => string | undefined;
  client: () => MetadataClient | undefined;
}

/**
 * Guests' metadata answered by asking the CLC over the internal channel: this host knows
 * the guest by its address (a node by its port, the CC of a split site by its lease).
 */
export function metadataAppAskingClc(o: AskingClc) {
  return createMetadataApp({
    clock: o.clock,
    ids: o.ids,
    log: o.log,
    callerOf: (ip) => {
      const instanceId = o.guestAt(ip);
      return instanceId === undefined
        ? undefined
        : {
            instanceId,
            async answer(path, requestId) {
              const c = o.client();
              if (!c) throw new Error("no CLC to ask: this host has not joined (no CLC_URL) and has no installed key");
              return (await c.answer({ instanceId, path }, { requestId })).answer ?? undefined;
            },
          };
    },
  });
}

export function createNodeMetadataResponder(o: AskingClc): { follow(net: HostNetwork): void; stop(): Promise<void> } {
  const app = metadataAppAskingClc(o);
  let listening: Promise<Listening | undefined> | undefined;
  const stop = async () => {
    const l = await listening;
    listening = undefined;
    await l?.close();
  };
  return {
    stop,
    follow(net: HostNetwork) {
      const wanted = net.addresses.some((x) => x.cidr === `${METADATA_IP}/32`);
      if (wanted && !listening) {
        listening = listen(app, METADATA_IP, 80).catch((e: Error) => {
          o.log.error({ err: e.message }, "nc: the metadata responder could not listen on 169.254.169.254:80");
          return undefined;
        });
      } else if (!wanted && listening) void stop();
    },
  };
}
