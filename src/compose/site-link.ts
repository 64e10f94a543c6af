/**
 * How the hosts of a site are linked beyond their roles' own calls: the head's internal
 * listener for other hosts (joins, Walrus and metadata for components, the revocation
 * list, the site's settings), and on a host that joined, following the head (its
 * revocation list and its site settings).
 */
import { Hono } from "hono";
import { createJoinApp } from "../api/join/app";
import type { SettingsStore } from "../config/settings-store";
import { siteSettingsOf } from "../config/site-settings";
import { followSiteSettings, type SiteFollower } from "../config/site-follower";
import { createHttpClient } from "../rpc/http-client";
import { createRpcApp } from "../rpc/http-server";
import type { HostTls, Revocations } from "../rpc/host-tls";
import { peerOf } from "../rpc/identity";
import { followRevocations } from "../rpc/revocation-follower";
import { CLOUD_METHODS, CLOUD_ROLE, type CloudClient } from "../roles/clc/clusters/cloud-rpc";
import { METADATA_METHODS, METADATA_ROLE, type MetadataClient } from "../roles/clc/metadata/metadata-rpc";
import type { Assembly } from "./assembly";
import type { ClcAssembly } from "./clc";

const FOLLOW_MS = 30_000;

/** The head's app for other hosts; every route takes mutual TLS and accepts only the components that may call it. */
export function headInternalApp(
  a: Assembly,
  o: { clc: ClcAssembly; walrus?: () => Hono; metadata: MetadataClient; settings: SettingsStore },
): Hono {
  const rpc = { revoked: a.revoked, clock: a.clock, log: a.log };
  const app = new Hono();
  app.route(
    "/",
    createJoinApp({
      caPem: () => o.clc.clc.ca.certPem,
      redeem: (r, ctx) => o.clc.joins.redeem(r, ctx),
      newRequestId: () => a.ids.requestId(),
      log: a.log,
    }),
  );
  if (o.walrus) app.route("/", o.walrus());
  app.route(
    "/",
    createRpcApp({
      role: METADATA_ROLE,
      service: o.metadata,
      methods: METADATA_METHODS,
      accepts: peerOf(["cc", "nc"]),
      ...rpc,
    }),
  );
  const cloud: CloudClient = {
    revocationList: async () => ({ crlPem: await o.clc.joins.revocationList() }),
    // As the head's config file now says: a property set since its start reaches the hosts too.
    siteSettings: async () => ({ settings: siteSettingsOf(o.settings.configured()) }),
  };
  app.route(
    "/",
    createRpcApp({
      role: CLOUD_ROLE,
      service: cloud,
      methods: CLOUD_METHODS,
      accepts: peerOf(["cc", "sc", "nc", "walrus", "clc"]),
      ...rpc,
    }),
  );
  return app;
}

/** A host that joined follows the head at CLC_URL: its revocation list and its site settings. */
export function followHead(
  a: Assembly,
  o: { tls: HostTls; revocations: Revocations; configFile?: string },
): SiteFollower {
  const s = a.settings;
  const client = createHttpClient<CloudClient>(CLOUD_METHODS, {
    baseUrl: s.clcUrl,
    role: CLOUD_ROLE,
    serverRole: "clc",
    tls: o.tls,
    clock: a.clock,
    ids: a.ids,
  });
  const stopRevocations = followRevocations({
    fetch: (ctx) => client.revocationList({}, ctx),
    revocations: o.revocations,
    everyMs: FOLLOW_MS,
    log: a.log,
  });
  const site = followSiteSettings({
    fetch: async () => (await client.siteSettings({}, { requestId: a.ids.requestId() })).settings,
    running: siteSettingsOf(s),
    configFile: o.configFile,
    everyMs: FOLLOW_MS,
    log: a.log,
  });
  return {
    pending: site.pending,
    stop: () => {
      stopRevocations();
      site.stop();
    },
  };
}
