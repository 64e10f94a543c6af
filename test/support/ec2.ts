/** The EC2 API as the tests reach it: a client for a user, the instances' states awaited, an error's code expected. */
import { DescribeInstancesCommand, EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { expect } from "vitest";
import type { Creds } from "./s3";
import { until } from "./until";

/** The AWS SDK v3's EC2 client for `credentials` at `endpoint`, as users configure it (one attempt: errors surface). */
export function ec2Client(endpoint: string, credentials: Creds, o: { maxAttempts?: number } = {}): EC2Client {
  return new EC2Client({ endpoint, region: "eucalyptus", credentials, maxAttempts: o.maxAttempts ?? 1 });
}

/** The instances with these ids, as DescribeInstances returns them. */
export async function describeInstances(ec2: EC2Client, ids: string[]): Promise<Instance[]> {
  const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}

/** Waits until every one of `ids` is in `state` (e.g. "running", "terminated"); returns them. */
export function waitForInstances(
  ec2: EC2Client,
  ids: string[],
  state: string,
  o: { timeoutMs?: number; everyMs?: number } = {},
): Promise<Instance[]> {
  return until(
    async () => {
      const found = await describeInstances(ec2, ids);
      return found.length === ids.length && found.every((i) => i.State?.Name === state) ? found : undefined;
    },
    { what: `${ids.join(", ")} to be ${state}`, timeoutMs: o.timeoutMs ?? 10_000, everyMs: o.everyMs ?? 50 },
  );
}

/** Expects the call to fail with EC2's error `code` (the SDK's error name), e.g. "InvalidInstanceID.NotFound". */
export async function expectEc2Error(call: Promise<unknown>, code: string): Promise<void> {
  await expect(call).rejects.toMatchObject({ name: code });
}
