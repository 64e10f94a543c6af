/** DescribeInstanceStatus: what EC2 tells of instances beyond DescribeInstances. */
import { defineAction, type Ec2Context } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";
import { STATE_CODES, type InstanceRecord, type InstanceState } from "../../../roles/clc/compute/instances";

const caller = (ctx: Ec2Context) => ({ accountId: ctx.principal.accountId, isAdmin: ctx.principal.isAdmin });
const state = (s: InstanceState) => ({ code: STATE_CODES[s], name: s });

export const DescribeInstanceStatus = defineAction({
  name: "DescribeInstanceStatus",
  params: {
    InstanceId: p.list(p.string()),
    IncludeAllInstances: p.boolean(),
    Filter: filterList(),
    MaxResults: p.integer({ min: 5, max: 1000 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const rows = await ctx.services.instances.describe(caller(ctx), input.InstanceId ?? [], ctx);
    // Only running instances unless IncludeAllInstances, as in EC2.
    const shown = rows.filter((r) => input.IncludeAllInstances || r.state === "running");
    // Impaired: its node has not reported it for INSTANCE_REACHABILITY_SECONDS (it is still running, as far as anyone knows).
    const impaired = new Map(
      shown.flatMap((r) => {
        const since = ctx.services.instances.impairedSince(r);
        return since ? [[r.id, since] as const] : [];
      }),
    );
    const status = (r: InstanceRecord) =>
      r.state !== "running" ? "not-applicable" : impaired.has(r.id) ? "impaired" : "ok";
    const reachability = (r: InstanceRecord) => (r.state !== "running" ? "" : impaired.has(r.id) ? "failed" : "passed");
    const filtered = applyFilters(shown, input.Filter, {
      "availability-zone": (r) => r.zone,
      "instance-state-name": (r) => r.state,
      "instance-state-code": (r) => String(STATE_CODES[r.state]),
      "instance-status.status": status,
      "system-status.status": status,
      "instance-status.reachability": reachability,
      "system-status.reachability": reachability,
    });
    const summary = (r: InstanceRecord) => ({
      status: status(r),
      details:
        r.state === "running"
          ? [
              {
                name: "reachability",
                status: reachability(r),
                ...(impaired.has(r.id) ? { impairedSince: impaired.get(r.id)!.toISOString() } : {}),
              },
            ]
          : [],
    });
    return {
      instanceStatusSet: filtered.map((r) => ({
        instanceId: r.id,
        availabilityZone: r.zone,
        instanceState: state(r.state),
        systemStatus: summary(r),
        instanceStatus: summary(r),
        eventsSet: [],
      })),
    };
  },
});
