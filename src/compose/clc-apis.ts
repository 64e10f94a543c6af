/**
 * The CLC's protocols on the main listener: STS and IAM at Eucalyptus' paths (and on the
 * EC2 endpoint by credential scope), the EC2 Query API; the metadata service on the plain app.
 */
import type { Hono } from "hono";
import { createEc2App } from "../api/ec2/app";
import type { Ec2Services } from "../api/ec2/services";
import { callersByAddress, createMetadataApp } from "../api/metadata/app";
import { createQueryHandler } from "../api/sts-iam/app";
import { stsService } from "../api/sts-iam/sts";
import { iamService } from "../api/sts-iam/iam";
import type { IamService } from "../roles/clc/identity/iam";
import type { MetadataSources } from "../roles/clc/metadata/metadata";
import type { ClcState } from "../roles/clc/open-clc";
import type { Assembly } from "./assembly";

export function mountClcApis(
  a: Assembly,
  o: { clc: ClcState; services: Ec2Services; iam: IamService; metadata: MetadataSources },
): void {
  const app: Hono = a.mainApp;
  const queryDeps = { clock: a.clock, ids: a.ids, log: a.log, identity: o.clc.identity };
  const sts = createQueryHandler(
    stsService({ createSession: (p, seconds) => o.clc.identity.createSession(p, seconds) }),
    queryDeps,
  );
  const iam = createQueryHandler(iamService(o.iam), queryDeps);
  for (const path of ["/services/Tokens", "/services/Tokens/"]) app.on(["GET", "POST"], path, sts);
  for (const path of ["/services/Euare", "/services/Euare/"]) app.on(["GET", "POST"], path, iam);
  app.route(
    "/",
    createEc2App({
      clock: a.clock,
      ids: a.ids,
      log: a.log,
      identity: o.clc.identity,
      services: o.services,
      queryServices: { sts, iam },
    }),
  );
  a.plainApp.route(
    "/",
    createMetadataApp({ clock: a.clock, ids: a.ids, log: a.log, callerOf: callersByAddress(o.metadata) }),
  );
}
