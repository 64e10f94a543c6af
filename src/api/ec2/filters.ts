/**
 * EC2 Describe filters: a resource matches when, for every filter, one of the
 * filter's values matches the resource's value(s) for that name. Values may use
 * `*` and `?` wildcards, matched in linear time (common/wildcard.ts; never a
 * regular expression). An unknown filter name is refused, as AWS does; names are
 * looked up as own properties only, so `constructor` or `__proto__` are unknown
 * names, not functions. Counts and lengths are bounded as AWS bounds them.
 */
import { compileWildcard } from "../../common/wildcard";
import type { Filter } from "./params";
import { Ec2Error } from "./errors";

/** AWS: at most 200 values per filter. */
export const MAX_FILTER_VALUES = 200;
export const MAX_FILTERS = 50;
/** Tag keys and values are at most 255 characters in Eucalyptus and EC2's Query API of its time. */
export const MAX_TAG_FILTER_VALUE = 255;
export const MAX_FILTER_VALUE = 1024;

export type FilterFields<T> = Record<string, (item: T) => string | readonly string[] | undefined>;

const own = <V>(o: Record<string, V>, k: string): V | undefined => (Object.hasOwn(o, k) ? o[k] : undefined);

function checkBounds(filters: readonly Filter[]): void {
  if (filters.length > MAX_FILTERS)
    throw new Ec2Error("FilterLimitExceeded", `At most ${MAX_FILTERS} filters may be given in one request`);
  for (const f of filters) {
    const values = f.Value ?? [];
    if (values.length > MAX_FILTER_VALUES)
      throw new Ec2Error(
        "FilterLimitExceeded",
        `The filter '${f.Name}' has ${values.length} values; at most ${MAX_FILTER_VALUES} are allowed`,
      );
    const isTag = f.Name.startsWith("tag:") || f.Name === "tag-key" || f.Name === "tag-value";
    const max = isTag ? MAX_TAG_FILTER_VALUE : MAX_FILTER_VALUE;
    for (const v of values) {
      if ([...v].length > max)
        throw new Ec2Error(
          "InvalidParameterValue",
          `A value of the filter '${f.Name.slice(0, 64)}' is longer than ${max} characters`,
        );
    }
  }
}

/**
 * `tags`, when given, adds the tag filters: `tag:<key>` (value of that tag),
 * `tag-key` and `tag-value`.
 */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  fields: FilterFields<T>,
  tags?: (item: T) => Record<string, string>,
): T[] {
  if (!filters?.length) return [...items];
  checkBounds(filters);
  const lookup = (name: string): FilterFields<T>[string] | undefined => {
    const field = own(fields, name);
    if (field) return field;
    if (!tags) return undefined;
    if (name.startsWith("tag:")) return (item) => own(tags(item), name.slice(4));
    if (name === "tag-key") return (item) => Object.keys(tags(item));
    if (name === "tag-value") return (item) => Object.values(tags(item));
    return undefined;
  };
  for (const f of filters) {
    if (!lookup(f.Name)) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `The filter '${f.Name.slice(0, 128)}' is invalid. Valid filters: ${[...Object.keys(fields), ...(tags ? ["tag:<key>", "tag-key", "tag-value"] : [])].join(", ")}`,
      );
    }
  }
  const compiled = filters.map((f) => ({
    get: lookup(f.Name)!,
    patterns: [...new Set(f.Value ?? [])].map(compileWildcard),
  }));
  return items.filter((item) =>
    compiled.every(({ get, patterns }) => {
      const raw = get(item);
      const values = raw === undefined ? [] : typeof raw === "string" ? [raw] : raw;
      return patterns.some((p) => values.some((v) => p.matches(v)));
    }),
  );
}
