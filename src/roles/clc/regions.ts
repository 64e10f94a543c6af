import type { CloudEndpoints } from "./credentials";

export interface RegionInfo {
  regionName: string;
  regionEndpoint: string;
}

/**
 * DescribeRegions as Eucalyptus answered it: the cloud's region with the EC2 URL
 * and a `Walrus` entry with the Walrus URL (reference §1.2).
 */
export function createRegionService(endpoints: () => CloudEndpoints) {
  return {
    regions(): RegionInfo[] {
      const e = endpoints();
      return [
        { regionName: e.region, regionEndpoint: e.ec2Url },
        { regionName: "Walrus", regionEndpoint: e.walrusUrl },
      ];
    },
  };
}

export type RegionService = ReturnType<typeof createRegionService>;
