/** Parsers of the settings whose values are lists or names checked against a set. */
import { ConfigError, oneOf } from "../values";
import {
  ROLES,
  SIGNUP_FIELDS,
  VNET_MODE_NAMES,
  type RoleName,
  type SignupField,
  type VnetMode,
} from "../setting-types";

export function parseRoles(raw: string, source: string): RoleName[] {
  const parts = raw
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new ConfigError(`${source}: no role given; valid roles: all, ${ROLES.join(", ")}`);
  if (parts.includes("all")) {
    if (parts.length > 1) throw new ConfigError(`${source}: 'all' cannot be combined with other roles`);
    return [...ROLES];
  }
  for (const r of parts) {
    if (!(ROLES as readonly string[]).includes(r)) {
      throw new ConfigError(`${source}: unknown role '${r}'; valid roles: all, or a comma list of ${ROLES.join(", ")}`);
    }
  }
  return ROLES.filter((r) => parts.includes(r));
}

export function vnetMode(raw: string, source: string): VnetMode {
  return oneOf(VNET_MODE_NAMES, "VNET_MODE")(raw.toUpperCase(), source);
}

export function signupFields(raw: string, source: string): SignupField[] {
  const parts = raw
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  for (const f of parts)
    if (!(SIGNUP_FIELDS as readonly string[]).includes(f))
      throw new ConfigError(`${source}: unknown sign-up field '${f}'; valid fields: ${SIGNUP_FIELDS.join(", ")}`);
  return parts as SignupField[];
}
