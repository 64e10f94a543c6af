/** The one EC2 action table, built from the per-area files. */
import type { Ec2Action } from "../action";
import type { Shape } from "../params";
import { DescribeRegions } from "./regions";
import { DescribeAvailabilityZones } from "./zones";

const actions: ReadonlyArray<Ec2Action<Shape>> = [
  DescribeRegions as unknown as Ec2Action<Shape>,
  DescribeAvailabilityZones as unknown as Ec2Action<Shape>,
];

export function actionTable(): ReadonlyMap<string, Ec2Action<Shape>> {
  return new Map(actions.map((a) => [a.name, a]));
}
