/**
 * EC2 Describe filters: a resource matches when, for every filter, one of the
 * filter's values matches the resource's value(s) for that name. Values may use
 * `*` and `?` wildcards. An unknown filter name is refused, as AWS does.
 */
import type { Filter } from "./params";
import { Ec2Error } from "./errors";

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, "s");
}

export type FilterFields<T> = Record<string, (item: T) => string | readonly string[] | undefined>;

export function applyFilters<T>(items: readonly T[], filters: readonly Filter[] | undefined, fields: FilterFields<T>): T[] {
  if (!filters?.length) return [...items];
  for (const f of filters) {
    if (!fields[f.Name]) {
      throw new Ec2Error("InvalidParameterValue", `The filter '${f.Name}' is invalid. Valid filters: ${Object.keys(fields).join(", ")}`);
    }
  }
  const compiled = filters.map((f) => ({ get: fields[f.Name]!, patterns: (f.Value ?? []).map(wildcard) }));
  return items.filter((item) =>
    compiled.every(({ get, patterns }) => {
      const raw = get(item);
      const values = raw === undefined ? [] : typeof raw === "string" ? [raw] : raw;
      return patterns.some((re) => values.some((v) => re.test(v)));
    }),
  );
}
