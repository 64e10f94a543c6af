import type { ZoneService } from "../../roles/clc/zones";
import type { RegionService } from "../../roles/clc/regions";

/** The CLC services EC2 actions call. The protocol layer never touches the database. */
export interface Ec2Services {
  zones: ZoneService;
  regions: RegionService;
}
