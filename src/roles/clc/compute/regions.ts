import { euareUrl, tokensUrl, type CloudEndpoints } from "../../../config/endpoints";

export interface RegionInfo {
  regionName: string;
  regionEndpoint: string;
}

/**
 * DescribeRegions as Eucalyptus answered it: the cloud's region with the EC2 URL, and
 * its other services by name — `Walrus` (reference §1.2), `Tokens` (STS) and `Euare` (IAM).
 */
export function createRegionService(endpoints: () => CloudEndpoints) {
  return {
    regions(): RegionInfo[] {
      const e = endpoints();
      return [
        { regionName: e.region, regionEndpoint: e.ec2Url },
        { regionName: "Walrus", regionEndpoint: e.walrusUrl },
        { regionName: "Tokens", regionEndpoint: tokensUrl(e) },
        { regionName: "Euare", regionEndpoint: euareUrl(e) },
      ];
    },
  };
}

export type RegionService = ReturnType<typeof createRegionService>;
