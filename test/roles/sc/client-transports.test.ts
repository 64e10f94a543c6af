/** StorageClient's contract in process and over signed HTTP, and the SC's restart after a crash. */
import { join } from "node:path";
import { existsSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/common/clock";
import { randomIds } from "../../../src/common/ids";
import { createLogger } from "../../../src/common/logger";
import { runProgram } from "../../../src/common/run-program";
import { createInProcessClient } from "../../../src/rpc/in-process";
import { createHttpClient } from "../../../src/rpc/http-client";
import { createRpcApp } from "../../../src/rpc/http-server";
import { listen } from "../../../src/server/listen";
import { createFileBackend } from "../../../src/roles/sc/backends/files";
import { STORAGE_METHODS, type StorageClient } from "../../../src/roles/sc/client";
import { openScDatabase, scVolumes } from "../../../src/roles/sc/database";
import { createStorageService } from "../../../src/roles/sc/service";
import { storageClientContract } from "../../contracts/storage-client.contract";
import { tempDir } from "../../support/cloud";

const log = createLogger("silent");

function storage(dir = tempDir("euca-sc-")) {
  const db = openScDatabase(join(dir, "sc.db"));
  const backend = createFileBackend({ dir: join(dir, "volumes"), format: "raw", run: runProgram });
  const service = createStorageService({
    zone: "cluster1",
    db,
    backend,
    limits: { maxVolumeGiB: 2, maxTotalGiB: 3 },
    clock: systemClock,
    log,
    stagingDir: join(dir, "volumes", "staging"),
  });
  return { db, service, dir };
}

storageClientContract("the in-process transport", async () => {
  const { db, service } = storage();
  return {
    client: createInProcessClient(STORAGE_METHODS, service),
    teardown: async () => {
      await service.drain();
      db.close();
    },
  };
});

storageClientContract("signed HTTP", async () => {
  const { db, service } = storage();
  const key = { id: "ECKSTORAGETEST000001", secret: "storage-component-secret" };
  const app = createRpcApp({
    role: "sc",
    service,
    methods: STORAGE_METHODS,
    lookupKey: (id) => (id === key.id ? key.secret : undefined),
    clock: systemClock,
    log,
  });
  const l = await listen(app, "127.0.0.1", 0);
  const client = createHttpClient<StorageClient>(STORAGE_METHODS, {
    baseUrl: `http://127.0.0.1:${l.port}`,
    role: "sc",
    key,
    clock: systemClock,
    ids: randomIds,
  });
  return {
    client,
    teardown: async () => {
      await l.close();
      await service.drain();
      db.close();
    },
  };
});

describe("the SC after a crash", () => {
  it("finishes a volume that was being made, removes one that was being removed, and files no record names", async () => {
    const first = storage();
    const now = new Date();
    first.db.db
      .insert(scVolumes)
      .values([
        { id: "vol-00000001", sizeGiB: 1, state: "creating", createdAt: now },
        { id: "vol-00000002", sizeGiB: 1, state: "deleting", createdAt: now },
      ])
      .run();
    writeFileSync(join(first.dir, "volumes", "vol-00000002.img"), "");
    writeFileSync(join(first.dir, "volumes", "vol-00000003.img"), ""); // an orphan
    first.db.close();

    const again = storage(first.dir);
    await again.service.recover();
    await again.service.drain();
    const left = (await again.service.describeVolumes({}, { requestId: "r" })).volumes;
    expect(left).toEqual([{ volumeId: "vol-00000001", sizeGiB: 1, state: "available" }]);
    expect(existsSync(join(first.dir, "volumes", "vol-00000001.img"))).toBe(true);
    expect(existsSync(join(first.dir, "volumes", "vol-00000002.img"))).toBe(false);
    expect(existsSync(join(first.dir, "volumes", "vol-00000003.img"))).toBe(false);
    again.db.close();
  });
});
