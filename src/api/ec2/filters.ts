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

/**
 * `tags`, when given, adds the tag filters: `tag:<key>` (value of that tag),
 * `tag-key` and `tag-value`.
 */
export function applyFilters<T>(items: readonly T[], filters: readonly Filter[] | undefined, fields: FilterFields<T>, tags?: (item: T) => Record<string, string>): T[] {
  if (!filters?.length) return [...items];
  const lookup = (name: string): FilterFields<T>[string] | undefined => {
    if (fields[name]) return fields[name];
    if (!tags) return undefined;
    if (name.startsWith("tag:")) return (item) => tags(item)[name.slice(4)];
    if (name === "tag-key") return (item) => Object.keys(tags(item));
    if (name === "tag-value") return (item) => Object.values(tags(item));
    return undefined;
  };
  for (const f of filters) {
    if (!lookup(f.Name)) {
      throw new Ec2Error("InvalidParameterValue", `The filter '${f.Name}' is invalid. Valid filters: ${[...Object.keys(fields), ...(tags ? ["tag:<key>", "tag-key", "tag-value"] : [])].join(", ")}`);
    }
  }
  const compiled = filters.map((f) => ({ get: lookup(f.Name)!, patterns: (f.Value ?? []).map(wildcard) }));
  return items.filter((item) =>
    compiled.every(({ get, patterns }) => {
      const raw = get(item);
      const values = raw === undefined ? [] : typeof raw === "string" ? [raw] : raw;
      return patterns.some((re) => values.some((v) => re.test(v)));
    }),
  );
}
