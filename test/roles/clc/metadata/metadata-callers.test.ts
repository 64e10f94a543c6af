/** Whose metadata a signed caller may read: a node only its own guests', a cluster only its zone's. */
import { join } from "node:path";
import type { ComponentIdentity } from "../../../../src/rpc/identity";
import { describe, expect, it } from "vitest";
import { metadataCallers } from "../../../../src/roles/clc/metadata/metadata-callers";
import { openClcDatabase } from "../../../../src/roles/clc/database";
import { registerCluster } from "../../../../src/roles/clc/clusters/cluster-registry";
import { openCcDatabase, placements } from "../../../../src/roles/cc/database";
import { registerNode } from "../../../../src/roles/cc/node-registry";
import { systemClock } from "../../../../src/common/clock";
import { randomIds } from "../../../../src/common/ids";
import { tempDir } from "../../../support/cloud";

describe("metadata callers", () => {
  const dir = tempDir("euca-mdcallers-");
  const clc = openClcDatabase(join(dir, "clc.db"));
  const cc = openCcDatabase(join(dir, "cc.db"));
  const zoneA = registerCluster(clc, "zone-a", "http://192.0.2.1:8774", systemClock, randomIds).key.id;
  const n1 = registerNode(cc, "n1", "http://192.0.2.2:8775", systemClock, randomIds).key.id;
  const n2 = registerNode(cc, "n2", "http://192.0.2.3:8775", systemClock, randomIds).key.id;
  cc.db.insert(placements).values({ instanceId: "i-00000001", node: "n1", createdAt: new Date() }).run();
  const may = metadataCallers(clc, cc);
  const onN1 = { id: "i-00000001", zone: "cluster1" };

  it("a node reads only the instances placed on it", () => {
    expect(may({ requestId: "r", caller: n1 }, onN1)).toBe(true);
    expect(may({ requestId: "r", caller: n2 }, onN1)).toBe(false);
    expect(may({ requestId: "r", caller: n2 }, { id: "i-00000009", zone: "cluster1" })).toBe(false);
  });

  it("over mutual TLS: the zone's CC and nodes, by their certificates; another zone's nothing", () => {
    const ctx = (peer: ComponentIdentity[]) => ({ requestId: "r", caller: "cert", peer });
    expect(may(ctx([{ role: "cc", cluster: "cluster1" }]), onN1)).toBe(true);
    expect(may(ctx([{ role: "nc", cluster: "cluster1", node: "n9" }]), onN1)).toBe(true);
    expect(may(ctx([{ role: "cc", cluster: "zone-a" }]), onN1)).toBe(false);
    expect(may(ctx([{ role: "sc", cluster: "cluster1" }]), onN1)).toBe(false);
    expect(may(ctx([{ role: "walrus" }]), onN1)).toBe(false);
  });

  it("a cluster reads only its zone's; an unknown signer nothing; this process everything", () => {
    expect(may({ requestId: "r", caller: zoneA }, { id: "i-00000002", zone: "zone-a" })).toBe(true);
    expect(may({ requestId: "r", caller: zoneA }, onN1)).toBe(false);
    expect(may({ requestId: "r", caller: "ENKNOBODY" }, onN1)).toBe(false);
    expect(may({ requestId: "r", caller: undefined }, onN1)).toBe(true);
    expect(metadataCallers(clc)({ requestId: "r", caller: n1 }, onN1)).toBe(false); // a node key means nothing without its CC here
  });
});
