import { NotFoundError } from "../../../common/errors";
import { defineAction } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";

export const DescribeRegions = defineAction({
  name: "DescribeRegions",
  params: {
    RegionName: p.list(p.string()),
    AllRegions: p.boolean(),
    Filter: filterList(),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    const all = ctx.services.regions.regions();
    for (const n of input.RegionName ?? [])
      if (!all.some((r) => r.regionName === n)) throw new NotFoundError("region", n);
    const named = input.RegionName?.length ? all.filter((r) => input.RegionName!.includes(r.regionName)) : all;
    const filtered = applyFilters(named, input.Filter, {
      "region-name": (r) => r.regionName,
      endpoint: (r) => r.regionEndpoint,
    });
    return {
      regionInfo: filtered.map((r) => ({
        regionName: r.regionName,
        regionEndpoint: r.regionEndpoint,
        optInStatus: "opt-in-not-required",
      })),
    };
  },
});
