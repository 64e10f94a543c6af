/** Checks shared by cluster registration (on the CLC) and node registration (on a CC). */
import { InvalidParameterError } from "../common/errors";
import type { IdGenerator } from "../common/ids";
import type { ComponentKey } from "./types";

const COMPONENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Validates a component's name and internal URL; returns the URL's origin. */
export function checkRegistration(kind: "cluster" | "node", name: string, url: string): string {
  if (!COMPONENT_NAME.test(name))
    throw new InvalidParameterError("name", `'${name}' is not a valid ${kind} name (letters, digits, '_', '.', '-')`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidParameterError("url", `'${url}' is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new InvalidParameterError("url", `The ${kind} URL must be http or https`);
  return parsed.origin;
}

/** A new component key: ECK… for clusters, ENK… for nodes. */
export function issueComponentKey(kind: "cluster" | "node", ids: IdGenerator): ComponentKey {
  return { id: `${kind === "cluster" ? "ECK" : "ENK"}${ids.accessKeyId().slice(3)}`, secret: ids.secretKey() };
}
