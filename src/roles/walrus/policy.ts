/**
 * Bucket policies (IAM policy language, Version 2012-10-17): validated when stored,
 * evaluated per request with the request's facts. An explicit Deny wins over every
 * Allow and every ACL grant; an Allow grants what the ACLs do not. Wildcards in
 * actions, resources and StringLike are matched by the linear-time matcher; IP
 * ranges by Node's BlockList.
 */
import { BlockList, isIP } from "node:net";
import { StorageError } from "../../common/errors";
import { compileWildcard, type Wildcard } from "../../common/wildcard";
import type { Requester } from "./acl";

export const MAX_POLICY_BYTES = 20 * 1024;

/** What the request looked like, for conditions. Absent values are absent keys. */
export interface RequestFacts {
  sourceIp?: string;
  secureTransport: boolean;
  now: Date;
  userAgent?: string;
  referer?: string;
  /** Request-specific keys (s3:prefix, s3:delimiter, s3:max-keys, s3:x-amz-acl, s3:VersionId, s3:signatureversion), lower-case names. */
  values?: Readonly<Record<string, string | undefined>>;
}

export interface PolicyRequest {
  principal: Requester;
  /** e.g. "s3:GetObject". */
  action: string;
  /** e.g. "arn:aws:s3:::photos/2026/a.jpg". */
  resource: string;
  facts: RequestFacts;
}

type PrincipalMatch = { any: true } | { any: false; accounts: Set<string>; users: Set<string> };
type Operator = "string" | "stringIgnoreCase" | "stringLike" | "numeric" | "date" | "bool" | "ip" | "null";
interface Condition {
  key: string;
  op: Operator;
  /** For string/numeric/date: which comparison; negated operators invert the match. */
  compare: "eq" | "lt" | "lte" | "gt" | "gte";
  negated: boolean;
  ifExists: boolean;
  values: string[];
  wildcards?: Wildcard[];
  ips?: BlockList;
}
interface Statement {
  effect: "Allow" | "Deny";
  principal?: PrincipalMatch;
  notPrincipal?: PrincipalMatch;
  actions?: Wildcard[];
  notActions?: Wildcard[];
  resources?: Wildcard[];
  notResources?: Wildcard[];
  conditions: Condition[];
  /** Grants anyone, without a condition that pins who may ask (GetBucketPolicyStatus). */
  isPublic: boolean;
}
export interface BucketPolicy {
  statements: Statement[];
  isPublic: boolean;
}

const malformed = (m: string) => new StorageError("MalformedPolicy", m);

const CONDITION_KEYS = new Set([
  "aws:sourceip",
  "aws:securetransport",
  "aws:currenttime",
  "aws:epochtime",
  "aws:useragent",
  "aws:referer",
  "aws:principalaccount",
  "aws:username",
  "aws:principaltype",
  "s3:prefix",
  "s3:delimiter",
  "s3:max-keys",
  "s3:x-amz-acl",
  "s3:versionid",
  "s3:signatureversion",
]);
/** Conditions on these keys narrow who may ask: a grant to "*" with one is not public. */
const PINNING_KEYS = new Set(["aws:sourceip", "aws:principalaccount", "aws:username"]);

const OPERATORS: Record<string, Pick<Condition, "op" | "compare" | "negated">> = {
  StringEquals: { op: "string", compare: "eq", negated: false },
  StringNotEquals: { op: "string", compare: "eq", negated: true },
  StringEqualsIgnoreCase: { op: "stringIgnoreCase", compare: "eq", negated: false },
  StringNotEqualsIgnoreCase: { op: "stringIgnoreCase", compare: "eq", negated: true },
  StringLike: { op: "stringLike", compare: "eq", negated: false },
  StringNotLike: { op: "stringLike", compare: "eq", negated: true },
  NumericEquals: { op: "numeric", compare: "eq", negated: false },
  NumericNotEquals: { op: "numeric", compare: "eq", negated: true },
  NumericLessThan: { op: "numeric", compare: "lt", negated: false },
  NumericLessThanEquals: { op: "numeric", compare: "lte", negated: false },
  NumericGreaterThan: { op: "numeric", compare: "gt", negated: false },
  NumericGreaterThanEquals: { op: "numeric", compare: "gte", negated: false },
  DateEquals: { op: "date", compare: "eq", negated: false },
  DateNotEquals: { op: "date", compare: "eq", negated: true },
  DateLessThan: { op: "date", compare: "lt", negated: false },
  DateLessThanEquals: { op: "date", compare: "lte", negated: false },
  DateGreaterThan: { op: "date", compare: "gt", negated: false },
  DateGreaterThanEquals: { op: "date", compare: "gte", negated: false },
  Bool: { op: "bool", compare: "eq", negated: false },
  IpAddress: { op: "ip", compare: "eq", negated: false },
  NotIpAddress: { op: "ip", compare: "eq", negated: true },
  Null: { op: "null", compare: "eq", negated: false },
};

/** Actions that act on objects (resource `bucket/key`); every other s3 action acts on the bucket. */
const OBJECT_ACTIONS = new Set([
  "s3:getobject",
  "s3:getobjectversion",
  "s3:putobject",
  "s3:deleteobject",
  "s3:deleteobjectversion",
  "s3:getobjectacl",
  "s3:getobjectversionacl",
  "s3:putobjectacl",
  "s3:putobjectversionacl",
  "s3:getobjecttagging",
  "s3:getobjectversiontagging",
  "s3:putobjecttagging",
  "s3:putobjectversiontagging",
  "s3:deleteobjecttagging",
  "s3:deleteobjectversiontagging",
  "s3:abortmultipartupload",
  "s3:listmultipartuploadparts",
  "s3:restoreobject",
  "s3:getobjectattributes",
  "s3:getobjectversionattributes",
]);

const list = (v: unknown, what: string): string[] => {
  const xs = Array.isArray(v) ? v : [v];
  if (xs.length === 0 || !xs.every((x) => typeof x === "string")) throw malformed(`Policy has an invalid ${what}`);
  return xs as string[];
};
const ci = (s: string) => compileWildcard(s.toLowerCase());
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parsePrincipal(v: unknown, accountExists: (id: string) => boolean): PrincipalMatch {
  if (v === "*") return { any: true };
  if (!isObject(v)) throw malformed("Invalid principal in policy");
  const accounts = new Set<string>();
  const users = new Set<string>();
  for (const [kind, value] of Object.entries(v)) {
    if (kind === "Service" || kind === "Federated") continue; // no such principals sign requests here: they match nothing
    if (kind !== "AWS" && kind !== "CanonicalUser") throw malformed("Invalid principal in policy");
    for (const p of list(value, "principal")) {
      if (p === "*" && kind === "AWS") return { any: true };
      const m = /^arn:aws:iam::([^:]+):(root|user\/(.+))$/.exec(p);
      const account = m ? m[1]! : p;
      if (!accountExists(account)) throw malformed("Invalid principal in policy");
      if (m?.[3] !== undefined) users.add(`${account}/${m[3]}`);
      else accounts.add(account);
    }
  }
  return { any: false, accounts, users };
}

function parseCondition(opName: string, key: string, raw: unknown): Condition {
  let name = opName;
  const ifExists = name.endsWith("IfExists");
  if (ifExists) name = name.slice(0, -"IfExists".length);
  if (name.startsWith("ForAnyValue:") || name.startsWith("ForAllValues:"))
    throw new StorageError("NotImplemented", `Condition set operators (${opName}) are not implemented`);
  const spec = Object.hasOwn(OPERATORS, name) ? OPERATORS[name]! : undefined;
  if (!spec) throw malformed(`Invalid Condition type : ${opName}`);
  const lower = key.toLowerCase();
  if (!CONDITION_KEYS.has(lower)) throw malformed(`Policy has an invalid condition key: ${key}`);
  const values = list(
    typeof raw === "boolean" || typeof raw === "number"
      ? String(raw)
      : Array.isArray(raw)
        ? raw.map((x) => (typeof x === "string" ? x : String(x)))
        : raw,
    "condition value",
  );
  const c: Condition = { key: lower, ...spec, ifExists, values };
  if (spec.op === "stringLike") c.wildcards = values.map((x) => compileWildcard(x));
  if (spec.op === "numeric" && values.some((x) => !Number.isFinite(Number(x))))
    throw malformed(`Invalid numeric value in condition ${opName}`);
  if (spec.op === "date" && values.some((x) => Number.isNaN(dateOf(x))))
    throw malformed(`Invalid date value in condition ${opName}`);
  if ((spec.op === "bool" || spec.op === "null") && values.some((x) => x !== "true" && x !== "false"))
    throw malformed(`${opName} takes "true" or "false"`);
  if (spec.op === "ip") {
    c.ips = new BlockList();
    for (const x of values) {
      const [addr, bits] = x.split("/");
      const family = isIP(addr ?? "");
      const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
      if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32))
        throw malformed(`Invalid IP address or range: ${x}`);
      c.ips.addSubnet(addr!, prefix, family === 6 ? "ipv6" : "ipv4");
    }
  }
  return c;
}

/** Epoch milliseconds of an ISO 8601 date or of epoch seconds. */
function dateOf(v: string): number {
  return /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
}

function parseStatement(s: unknown, bucket: string, accountExists: (id: string) => boolean): Statement {
  if (!isObject(s)) throw malformed("Statement must be an object");
  if (s.Effect !== "Allow" && s.Effect !== "Deny") throw malformed(`Invalid effect: ${String(s.Effect)}`);
  if (s.Principal === undefined && s.NotPrincipal === undefined) throw malformed("Missing required field Principal");
  if (s.Action === undefined && s.NotAction === undefined) throw malformed("Missing required field Action");
  if (s.Resource === undefined && s.NotResource === undefined) throw malformed("Missing required field Resource");
  const actionNames = s.Action !== undefined ? list(s.Action, "action") : list(s.NotAction, "action");
  for (const a of actionNames) {
    if (a !== "*" && !/^s3:[A-Za-z*?]+$/i.test(a)) throw malformed(`Policy has invalid action: ${a}`);
  }
  const resourceNames = s.Resource !== undefined ? list(s.Resource, "resource") : list(s.NotResource, "resource");
  for (const r of resourceNames) {
    const m = /^arn:aws:s3:::([^/]+)(\/.*)?$/.exec(r);
    if (!m || !compileWildcard(m[1]!).matches(bucket)) throw malformed("Policy has invalid resource");
  }
  if (s.Action !== undefined && s.Resource !== undefined) {
    const literal = actionNames.filter((a) => !/[*?]/.test(a)).map((a) => a.toLowerCase());
    const objectLevel = resourceNames.some((r) => r.includes("/"));
    const bucketLevel = resourceNames.some((r) => !r.includes("/"));
    const applies =
      literal.length < actionNames.length || literal.some((a) => (OBJECT_ACTIONS.has(a) ? objectLevel : bucketLevel));
    if (!applies) throw malformed("Action does not apply to any resource(s) in statement");
  }
  const conditions: Condition[] = [];
  if (s.Condition !== undefined) {
    if (!isObject(s.Condition)) throw malformed("Condition must be an object");
    for (const [op, body] of Object.entries(s.Condition)) {
      if (!isObject(body)) throw malformed(`Invalid Condition block for ${op}`);
      for (const [key, values] of Object.entries(body)) conditions.push(parseCondition(op, key, values));
    }
  }
  const st: Statement = {
    effect: s.Effect,
    principal: s.Principal !== undefined ? parsePrincipal(s.Principal, accountExists) : undefined,
    notPrincipal: s.NotPrincipal !== undefined ? parsePrincipal(s.NotPrincipal, accountExists) : undefined,
    actions: s.Action !== undefined ? actionNames.map(ci) : undefined,
    notActions: s.NotAction !== undefined ? actionNames.map(ci) : undefined,
    resources: s.Resource !== undefined ? resourceNames.map((r) => compileWildcard(r)) : undefined,
    notResources: s.NotResource !== undefined ? resourceNames.map((r) => compileWildcard(r)) : undefined,
    conditions,
    isPublic: false,
  };
  st.isPublic =
    st.effect === "Allow" &&
    (st.principal?.any === true || st.notPrincipal !== undefined) &&
    !conditions.some(
      (c) =>
        PINNING_KEYS.has(c.key) && !(c.key === "aws:sourceip" && !c.negated && c.values.some((v) => v.endsWith("/0"))),
    );
  return st;
}

/** Validates a policy document for `bucket` (MalformedPolicy otherwise) and compiles it. */
export function parsePolicy(text: string, bucket: string, accountExists: (id: string) => boolean): BucketPolicy {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES)
    throw malformed(`Policies must be smaller than ${MAX_POLICY_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  if (!isObject(doc)) throw malformed("Policies must be valid JSON and the first byte must be '{'");
  if (doc.Version !== undefined && doc.Version !== "2012-10-17" && doc.Version !== "2008-10-17")
    throw malformed("The policy must contain a valid version string");
  if (doc.Statement === undefined) throw malformed("Missing required field Statement");
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (raw.length === 0) throw malformed("Missing required field Statement");
  const statements = raw.map((s) => parseStatement(s, bucket, accountExists));
  return { statements, isPublic: statements.some((s) => s.isPublic) };
}

function principalMatches(p: PrincipalMatch, r: Requester): boolean {
  if (p.any) return true;
  return r !== null && (p.accounts.has(r.accountId) || p.users.has(`${r.accountId}/${r.userName}`));
}

function factOf(key: string, req: PolicyRequest): string | undefined {
  const f = req.facts;
  switch (key) {
    case "aws:sourceip":
      return f.sourceIp;
    case "aws:securetransport":
      return String(f.secureTransport);
    case "aws:currenttime":
      return f.now.toISOString();
    case "aws:epochtime":
      return String(Math.floor(f.now.getTime() / 1000));
    case "aws:useragent":
      return f.userAgent;
    case "aws:referer":
      return f.referer;
    case "aws:principalaccount":
      return req.principal?.accountId;
    case "aws:username":
      return req.principal?.userName;
    case "aws:principaltype":
      return req.principal ? "User" : "Anonymous";
    default:
      return f.values?.[key];
  }
}

function conditionHolds(c: Condition, req: PolicyRequest): boolean {
  const value = factOf(c.key, req);
  if (c.op === "null") return c.values.some((v) => (v === "true") === (value === undefined));
  if (value === undefined) return c.ifExists || c.negated;
  const cmp = (a: number, b: number) =>
    c.compare === "eq"
      ? a === b
      : c.compare === "lt"
        ? a < b
        : c.compare === "lte"
          ? a <= b
          : c.compare === "gt"
            ? a > b
            : a >= b;
  let any: boolean;
  switch (c.op) {
    case "string":
      any = c.values.includes(value);
      break;
    case "stringIgnoreCase":
      any = c.values.some((v) => v.toLowerCase() === value.toLowerCase());
      break;
    case "stringLike":
      any = c.wildcards!.some((w) => w.matches(value));
      break;
    case "numeric":
      any = c.values.some((v) => cmp(Number(value), Number(v)));
      break;
    case "date":
      any = c.values.some((v) => cmp(dateOf(value), dateOf(v)));
      break;
    case "bool":
      any = c.values.includes(value.toLowerCase());
      break;
    case "ip": {
      const family = isIP(value);
      any = family !== 0 && c.ips!.check(value, family === 6 ? "ipv6" : "ipv4");
      break;
    }
  }
  return c.negated ? !any : any;
}

function statementApplies(s: Statement, req: PolicyRequest): boolean {
  if (s.principal && !principalMatches(s.principal, req.principal)) return false;
  if (s.notPrincipal && principalMatches(s.notPrincipal, req.principal)) return false;
  const action = req.action.toLowerCase();
  if (s.actions && !s.actions.some((w) => w.matches(action))) return false;
  if (s.notActions && s.notActions.some((w) => w.matches(action))) return false;
  if (s.resources && !s.resources.some((w) => w.matches(req.resource))) return false;
  if (s.notResources && s.notResources.some((w) => w.matches(req.resource))) return false;
  return s.conditions.every((c) => conditionHolds(c, req));
}

/** "Deny" if any statement denies, "Allow" if one allows, undefined when the policy says nothing. */
export function evaluatePolicy(p: BucketPolicy, req: PolicyRequest): "Allow" | "Deny" | undefined {
  let verdict: "Allow" | undefined;
  for (const s of p.statements) {
    if (!statementApplies(s, req)) continue;
    if (s.effect === "Deny") return "Deny";
    verdict = "Allow";
  }
  return verdict;
}

export function resourceArn(bucket: string, key?: string): string {
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}
