import { defineAction } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";

export const DescribeAvailabilityZones = defineAction({
  name: "DescribeAvailabilityZones",
  params: {
    ZoneName: p.list(p.string()),
    ZoneId: p.list(p.string()),
    AllAvailabilityZones: p.boolean(),
    Filter: filterList(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const names = [...(input.ZoneName ?? []), ...(input.ZoneId ?? [])];
    // `verbose` is an admin keyword (Eucalyptus); for other users it is ignored.
    if (names.includes("verbose") && ctx.principal.isAdmin) {
      return { availabilityZoneInfo: await ctx.services.zones.describeVerbose(ctx) };
    }
    const zones = await ctx.services.zones.describe(
      names.filter((n) => n !== "verbose"),
      ctx,
    );
    const filtered = applyFilters(zones, input.Filter, {
      "zone-name": (z) => z.zoneName,
      "zone-id": (z) => z.zoneName,
      state: (z) => z.zoneState,
      "region-name": (z) => z.regionName,
      "zone-type": () => "availability-zone",
      message: (z) => z.messages,
    });
    return {
      availabilityZoneInfo: filtered.map((z) => ({
        zoneName: z.zoneName,
        zoneState: z.zoneState,
        regionName: z.regionName,
        zoneId: z.zoneName,
        zoneType: "availability-zone",
        messageSet: z.messages.map((message) => ({ message })),
      })),
    };
  },
});
