/**
 * A node's part in live migration (the CC's drain): as a source it says what the target
 * needs and sends the guest; as a target it stages the instance as for a launch (image,
 * kernel, disks: the mirror overwrites them) and waits for it paused. Attached volumes are
 * not copied — the target opens them where their SC serves them, with the attachment's own
 * credentials. The migration's channels listen on this node's address with a key made by
 * the CC for this one migration.
 */
import { createServer } from "node:net";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import type { Logger } from "pino";
import { IncorrectStateError, InsufficientCapacityError, NotFoundError, UnsupportedError } from "../../common/errors";
import type { CallContext } from "../../rpc/types";
import type { AttachedDisk, DiskSpec, DomainSpec, Hypervisor } from "../../hypervisor/types";
import type { NodeClient, MigratingVolume, NodeResource, RunInstanceRequest } from "./client";
import type { NcDatabase } from "./database";
import { ncInstances } from "./database";
import type { Clock } from "../../common/clock";

type MigrationMethods = Pick<NodeClient, "migrationSource" | "receiveInstance" | "sendInstance" | "completeIncoming">;

export interface NodeMigrationDeps {
  db: NcDatabase;
  hypervisor: Hypervisor;
  clock: Clock;
  log: Logger;
  /** The address this node's migration channels listen on (its --host). */
  host: string;
  dirOf: (r: RunInstanceRequest) => string;
  requestOf: (row: { request: string }) => RunInstanceRequest;
  prepare: (r: RunInstanceRequest, ctx: CallContext) => Promise<DomainSpec>;
  describeResource: () => Promise<NodeResource>;
  teardown: (id: string, reason: string) => void;
  markExtant: (id: string) => void;
  /** Instances being staged: a report leaves them alone (an arriving one has no running domain until it is complete). */
  staging: Set<string>;
}

/** A free TCP port on `host` (the kernel's pick; QEMU binds it right after). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .once("error", reject)
      .listen(0, host, () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
  });
}

/** Where an attached disk's SC serves it, as attachVolume was given it (its NBD key read back from the attachment's key file). */
function targetOf(d: DiskSpec): MigratingVolume["target"] {
  if (d.nbd) {
    const line = readFileSync(join(d.nbd.pskDir, "keys.psk"), "utf8").trim();
    return {
      kind: "nbd",
      host: d.nbd.host,
      port: d.nbd.port,
      export: d.nbd.export,
      identity: d.nbd.identity,
      key: line.slice(line.indexOf(":") + 1),
    };
  }
  if (d.iscsi) return { kind: "iscsi", ...d.iscsi };
  throw new UnsupportedError(
    `volume ${d.volumeId} is opened as a file on this node's host (it shares its storage controller's host): detach it before the instance can move`,
  );
}

export function nodeMigration(d: NodeMigrationDeps): MigrationMethods {
  const { db } = d.db;
  const record = (id: string) => db.select().from(ncInstances).where(eq(ncInstances.id, id)).get();

  /** The disks a target plugs in before the guest's state arrives: like attachVolume's, at the source's slots. */
  function disksOf(dir: string, volumes: readonly MigratingVolume[]): AttachedDisk[] {
    return volumes.map(({ volumeId, device, target, slot }) => {
      if (target.kind === "iscsi") {
        return {
          path: `iscsi://${target.portal}/${target.target}/${target.lun}`,
          device,
          volumeId,
          slot,
          iscsi: {
            portal: target.portal,
            target: target.target,
            lun: target.lun,
            user: target.user,
            password: target.password,
          },
        };
      }
      if (target.kind !== "nbd")
        throw new UnsupportedError(`volume ${volumeId} is opened as a file by its node; it cannot follow the instance`);
      const pskDir = join(dir, `${volumeId}.psk`);
      mkdirSync(pskDir, { recursive: true, mode: 0o700 });
      writeFileSync(join(pskDir, "keys.psk"), `${target.identity}:${target.key}\n`, { mode: 0o600 });
      return {
        path: `nbd://${target.host}:${target.port}/${target.export}`,
        device,
        volumeId,
        slot,
        nbd: { host: target.host, port: target.port, export: target.export, identity: target.identity, pskDir },
      };
    });
  }

  /** Removes an incoming instance that will not run here (its record, files and waiting domain). */
  async function abandon(id: string): Promise<void> {
    const row = record(id);
    await d.hypervisor.destroy(id);
    if (row) {
      d.teardown(id, "the migration here did not complete");
      db.delete(ncInstances).where(eq(ncInstances.id, id)).run();
    }
  }

  return {
    async migrationSource({ instanceId }) {
      const row = record(instanceId);
      if (!row || row.state !== "extant")
        throw new IncorrectStateError(`instance ${instanceId} is not running on this node`, "instance");
      if (!d.hypervisor.capabilities().liveMigration)
        throw new UnsupportedError(`the ${d.hypervisor.capabilities().name} driver does not move running guests`);
      const request = d.requestOf(row);
      // Its root is a volume the target would open again, not a local disk to mirror: it is stopped and started instead.
      if (request.rootVolume)
        throw new UnsupportedError(`instance ${instanceId} boots from an EBS volume: stop it and start it elsewhere`);
      const disks = await d.hypervisor.migrationDisks(instanceId);
      const volumes = disks
        .filter((x) => x.volumeId)
        .map((x) => ({
          volumeId: x.volumeId!,
          device: x.device,
          target: targetOf(x),
          ...(x.slot !== undefined ? { slot: x.slot } : {}),
        }));
      const console = await d.hypervisor.consoleOutput(instanceId).catch(() => "");
      return { request, volumes, console: Buffer.from(console, "utf8").toString("base64") };
    },

    async receiveInstance({ request, volumes, console, key }, ctx) {
      const id = request.instanceId;
      const before = record(id);
      if (before && before.state !== "teardown")
        throw new IncorrectStateError(`instance ${id} is already on this node`, "instance");
      if (before) {
        // it left this node earlier and comes back: the record of its leaving gives way
        await d.hypervisor.destroy(id);
        db.delete(ncInstances).where(eq(ncInstances.id, id)).run();
      }
      const res = await d.describeResource();
      if (
        request.vmType.memoryMb > res.memorySizeAvailable ||
        request.vmType.cpus > res.numberOfCoresAvailable ||
        request.vmType.diskGb > res.diskSizeAvailable
      ) {
        throw new InsufficientCapacityError(
          `node cannot take ${id} (${request.vmType.name}): ${res.memorySizeAvailable} MB, ${res.numberOfCoresAvailable} cores, ${res.diskSizeAvailable} GB free`,
        );
      }
      db.insert(ncInstances)
        .values({ id, request: JSON.stringify(request), state: "pending", createdAt: d.clock.now() })
        .run();
      d.staging.add(id);
      try {
        const spec = await d.prepare(request, ctx);
        // The console so far comes along, so GetConsoleOutput reads on where it was.
        writeFileSync(spec.consolePath, Buffer.from(console, "base64"));
        const at = { host: d.host, migrationPort: await freePort(d.host), nbdPort: await freePort(d.host), key };
        await d.hypervisor.receiveMigration(spec, disksOf(d.dirOf(request), volumes), at);
        d.log.info(
          { requestId: ctx.requestId, instanceId: id, migrationPort: at.migrationPort, nbdPort: at.nbdPort },
          "nc: waiting for a migrating instance",
        );
        return at;
      } catch (e) {
        await abandon(id).catch(() => undefined);
        d.staging.delete(id);
        throw e;
      }
    },

    async sendInstance({ instanceId, to, node }, ctx) {
      const row = record(instanceId);
      if (!row || row.state !== "extant")
        throw new IncorrectStateError(`instance ${instanceId} is not running on this node`, "instance");
      const figures = await d.hypervisor.sendMigration(instanceId, to);
      d.teardown(instanceId, `migrated to node ${node}`);
      d.log.info({ requestId: ctx.requestId, instanceId, node, ...figures }, "nc: instance migrated away");
      // The paused copy here goes while the CC has the target continue: the guest does not
      // wait for it. A restart before it is gone destroys it then (adopt).
      void d.hypervisor
        .destroy(instanceId)
        .catch((e: Error) =>
          d.log.warn(
            { requestId: ctx.requestId, instanceId, err: e.message },
            "nc: the copy of a migrated instance was not destroyed; it is at the next restart",
          ),
        );
      return figures;
    },

    async completeIncoming({ instanceId, ok }, ctx) {
      const row = db
        .select()
        .from(ncInstances)
        .where(and(eq(ncInstances.id, instanceId), eq(ncInstances.state, "pending")))
        .get();
      if (!row) throw new NotFoundError("instance", instanceId);
      try {
        if (!ok) {
          await abandon(instanceId);
          return;
        }
        await d.hypervisor.completeMigration(instanceId);
        d.markExtant(instanceId);
      } finally {
        d.staging.delete(instanceId);
      }
      d.log.info({ requestId: ctx.requestId, instanceId }, "nc: migrated instance runs here");
    },
  };
}
