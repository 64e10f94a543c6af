/**
 * Walrus: its service and blob store, S3 on the main listener (/services/Walrus) and
 * on its own port, its in-process client for the roles here (with the image cache
 * where the cloud's key is), and its RPC surface for components on other hosts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import { createS3App } from "../api/s3/app";
import { openWalrus, type WalrusOperations } from "../roles/walrus/service";
import type { Requester } from "../roles/walrus/acl";
import { createInProcessWalrusClient } from "../roles/walrus/in-process-client";
import { createWalrusRpcApp } from "../roles/walrus/rpc";
import { ImageCache } from "../roles/walrus/image-cache";
import type { WalrusClient } from "../roles/walrus/client";
import type { IdentityService } from "../roles/clc/identity/identity-service";
import type { ComponentKeyLookup } from "../rpc/types";
import type { Assembly } from "./assembly";
import { startLifecycleRounds } from "../roles/walrus/lifecycle";

/** Where Walrus answers S3 on the main listener (Eucalyptus' URLs). */
export const WALRUS_PREFIXES = ["/services/Walrus", "/services/objectstorage"] as const;

export function assembleWalrus(
  a: Assembly,
  o: { identity?: IdentityService; componentKeys: ComponentKeyLookup },
): { client: WalrusClient; s3App: Hono; service: WalrusOperations; internalApp: () => Hono } {
  const s = a.settings;
  const walrus = openWalrus(
    a.layout,
    {
      clock: a.clock,
      log: a.log,
      systemAccount: () => o.identity?.systemAccountId() ?? "",
      // Getters: the admin's settings page changes these while the cloud runs.
      quotas: {
        get maxBucketsPerUser() {
          return s.walrusMaxBuckets;
        },
        get maxBucketBytes() {
          return s.walrusMaxBucketMb * 1024 * 1024;
        },
      },
      region: s.region,
      accountExists: (id) => o.identity?.accountName(id) !== undefined,
    },
    { dayMs: Math.max(1, s.walrusLifecycleDaySeconds * 1000), budget: 1000 },
  );
  a.cleanups.push(() => walrus.close());
  a.cleanups.push(startLifecycleRounds(walrus.service.lifecycle, Math.max(50, s.walrusLifecycleSeconds * 1000), a.log));
  if (walrus.swept.tmp || walrus.swept.orphans)
    a.log.warn({ swept: walrus.swept }, "walrus: removed what an interrupted write left behind");
  // Users are authenticated by the CLC's identity service; without a CLC in this
  // process only anonymous requests (public ACLs) can succeed.
  const identity = {
    lookupSecret: (k: string) => o.identity?.lookupSecret(k),
    principal: (k: string, token?: string) => o.identity?.principal(k, token),
    accountName: (id: string) => o.identity?.accountName(id),
  };
  const s3 = (prefixes: string[]) =>
    createS3App({
      clock: a.clock,
      ids: a.ids,
      log: a.log,
      walrus: walrus.service,
      identity,
      prefixes,
      virtualHostDomain: s.s3Domain,
    });
  a.mainApp.route("/", s3([...WALRUS_PREFIXES]));
  const system = (): Requester => ({
    accountId: o.identity?.systemAccountId() ?? "",
    userName: "system",
    isAdmin: true,
  });
  // Decrypting bundles needs the cloud's private key: present where the CLC's keys are.
  const images = existsSync(a.layout.cloudKey)
    ? new ImageCache(
        join(a.layout.walrusDir, "image-cache"),
        s.walrusImageCacheMb * 1024 * 1024,
        walrus.service,
        system,
        () => readFileSync(a.layout.cloudKey, "utf8"),
      )
    : undefined;
  const client = createInProcessWalrusClient(walrus.service, system, images);
  // Hosts registered with a key call it signed on the main listener; hosts that joined, over mutual TLS on the internal one.
  a.plainApp.route("/", createWalrusRpcApp({ walrus: client, lookupKey: o.componentKeys, clock: a.clock, log: a.log }));
  const internalApp = () => createWalrusRpcApp({ walrus: client, revoked: a.revoked, clock: a.clock, log: a.log });
  return { client, s3App: s3([""]), service: walrus.service, internalApp };
}
