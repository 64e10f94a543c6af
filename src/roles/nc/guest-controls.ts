/** A node's controls over its guests and its host beyond their lifecycle: reboot, console, power. */
import type { Logger } from "pino";
import { IncorrectStateError, NotFoundError } from "../../common/errors";
import { HypervisorError, type Hypervisor } from "../../hypervisor/types";
import type { NodeClient } from "./client";

export function guestControls(o: {
  hypervisor: Hypervisor;
  log: Logger;
  /** Whether the node has a record of the instance. */
  known: (instanceId: string) => boolean;
  /** How many instances it runs (or stages). */
  active: () => number;
}): Pick<NodeClient, "rebootInstance" | "getConsoleOutput" | "powerDown" | "powerUp"> {
  return {
    async rebootInstance({ instanceId }) {
      if (!o.known(instanceId)) throw new NotFoundError("instance", instanceId);
      try {
        await o.hypervisor.reboot(instanceId);
      } catch (e) {
        if (e instanceof HypervisorError && e.kind === "not-found")
          throw new IncorrectStateError(`instance ${instanceId} is not running`);
        throw e;
      }
    },

    async getConsoleOutput({ instanceId }) {
      if (!o.known(instanceId)) throw new NotFoundError("instance", instanceId);
      let text = "";
      try {
        text = await o.hypervisor.consoleOutput(instanceId);
      } catch (e) {
        // Not running (yet, or any more): no console to show.
        if (!(e instanceof HypervisorError && e.kind === "not-found")) throw e;
      }
      return { output: Buffer.from(text, "utf8").toString("base64") };
    },

    async powerDown() {
      const n = o.active();
      if (n > 0) throw new IncorrectStateError(`node still runs ${n} instance(s)`);
      try {
        await o.hypervisor.powerDown();
      } catch (e) {
        if (e instanceof HypervisorError && (e.kind === "busy" || e.kind === "unsupported"))
          throw new IncorrectStateError(`cannot power down: ${e.message}`);
        throw e;
      }
      o.log.info("nc: host powered down");
    },

    async powerUp() {
      await o.hypervisor.powerUp();
      o.log.info("nc: host powered up");
    },
  };
}
