/**
 * One contract for the role clients, run against each transport: whatever carries
 * the call, callers see the same results and the same typed errors.
 */
import { describe, expect, it } from "vitest";
import type { ClusterClient } from "../../src/roles/cc/client";
import type { NodeClient } from "../../src/roles/nc/client";
import { DEFAULT_VM_TYPES } from "../../src/roles/clc/compute/vm-types";
import { InvalidParameterError, NotFoundError } from "../../src/common/errors";

export interface RoleClients {
  cluster: ClusterClient;
  node: NodeClient;
  /** A client of the "echo" test service, to check errors and ids cross intact. */
  echo: EchoClient;
}

export interface EchoClient {
  echo(input: { text: string }, ctx: { requestId: string }): Promise<{ text: string; requestId: string }>;
  fail(input: { kind: "notfound" | "invalid" }, ctx: { requestId: string }): Promise<never>;
}
export const ECHO_METHODS = ["echo", "fail"] as const;

export function echoService(): EchoClient {
  return {
    async echo(input, ctx) {
      return { text: input.text, requestId: ctx.requestId };
    },
    async fail(input) {
      if (input.kind === "notfound") throw new NotFoundError("cluster", "w-1");
      throw new InvalidParameterError("Size", "Size must be positive");
    },
  };
}

export function roleClientContract(name: string, setup: () => Promise<RoleClients & { teardown(): Promise<void> }>) {
  describe(`role clients over ${name}`, () => {
    it("NodeClient.describeResource reports the node's capacity", async () => {
      const c = await setup();
      try {
        expect(await c.node.describeResource({}, { requestId: "r-node" })).toEqual({
          nodeStatus: "enabled",
          memorySizeMax: 4096,
          memorySizeAvailable: 4096,
          diskSizeMax: 100,
          diskSizeAvailable: 100,
          numberOfCoresMax: 4,
          numberOfCoresAvailable: 4,
          powerControl: true,
          hypervisor: "fake",
        });
      } finally {
        await c.teardown();
      }
    });

    it("NodeClient powers an idle node down and up; a sleeping node does not answer", async () => {
      const c = await setup();
      const ctx = { requestId: "r-power" };
      try {
        await c.node.powerDown({}, ctx);
        await expect(c.node.describeResource({}, ctx)).rejects.toThrow(/powered down/);
        await c.node.powerUp({}, ctx);
        expect((await c.node.describeResource({}, ctx)).nodeStatus).toBe("enabled");
      } finally {
        await c.teardown();
      }
    });

    it("ClusterClient.describeResources counts what fits per VM type", async () => {
      const c = await setup();
      try {
        const { resources } = await c.cluster.describeResources(
          { vmTypes: [...DEFAULT_VM_TYPES] },
          { requestId: "r-cc" },
        );
        expect(resources.map((r) => [r.name, r.available, r.max])).toEqual([
          ["m1.small", 4, 4],
          ["c1.medium", 4, 4],
          ["m1.large", 2, 2],
          ["m1.xlarge", 2, 2],
          ["c1.xlarge", 1, 1],
        ]);
        expect(await c.cluster.describeCluster({}, { requestId: "r-cc" })).toMatchObject({
          name: "cluster1",
          nodes: 1,
        });
        const { nodes } = await c.cluster.describeNodes({}, { requestId: "r-cc" });
        expect(nodes).toHaveLength(1);
        expect(nodes[0]).toMatchObject({
          state: "up",
          instances: 0,
          resource: { numberOfCoresMax: expect.any(Number) },
        });
      } finally {
        await c.teardown();
      }
    });

    it("carries the request id and unicode intact", async () => {
      const c = await setup();
      try {
        expect(await c.echo.echo({ text: "héllo ☁ \u0000 end" }, { requestId: "req-42" })).toEqual({
          text: "héllo ☁ \u0000 end",
          requestId: "req-42",
        });
      } finally {
        await c.teardown();
      }
    });

    it("rebuilds typed domain errors", async () => {
      const c = await setup();
      try {
        await expect(c.echo.fail({ kind: "notfound" }, { requestId: "r" })).rejects.toBeInstanceOf(NotFoundError);
        await expect(c.echo.fail({ kind: "notfound" }, { requestId: "r" })).rejects.toMatchObject({
          resource: "cluster",
          id: "w-1",
        });
        await expect(c.echo.fail({ kind: "invalid" }, { requestId: "r" })).rejects.toMatchObject({
          kind: "InvalidParameter",
          parameter: "Size",
          message: "Size must be positive",
        });
      } finally {
        await c.teardown();
      }
    });
  });
}
