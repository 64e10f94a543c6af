/**
 * Declared parameter specs for EC2 Query actions and the one generic decoder that
 * reads them. Lists are flattened `Name.N` (1-based), structures `Name.Member`, as
 * botocore's EC2 serializer sends them (reference/ec2-wire.md §2). Unknown names,
 * bad indexes and bad values are refused before any handler runs.
 */
import { Ec2Error } from "./errors";

interface Base<R extends boolean> {
  required: R;
  doc?: string;
}
export interface StringSpec<R extends boolean = boolean> extends Base<R> {
  t: "string";
  enum?: readonly string[];
  maxLength?: number;
  pattern?: RegExp;
}
export interface IntegerSpec<R extends boolean = boolean> extends Base<R> {
  t: "integer";
  min?: number;
  max?: number;
}
export interface BooleanSpec<R extends boolean = boolean> extends Base<R> {
  t: "boolean";
}
export interface ListSpec<R extends boolean = boolean, I extends Spec = Spec> extends Base<R> {
  t: "list";
  item: I;
  maxItems?: number;
}
export interface StructSpec<R extends boolean = boolean, S extends Shape = Shape> extends Base<R> {
  t: "struct";
  shape: S;
}
export type Spec = StringSpec | IntegerSpec | BooleanSpec | ListSpec | StructSpec;
export interface Shape {
  [name: string]: Spec;
}

type Value<S extends Spec> = S extends StringSpec
  ? string
  : S extends IntegerSpec
    ? number
    : S extends BooleanSpec
      ? boolean
      : S extends ListSpec<boolean, infer I>
        ? Array<Value<I>>
        : S extends StructSpec<boolean, infer Sh>
          ? Infer<Sh>
          : never;

type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K]["required"] extends true ? K : never }[keyof S];
type OptionalKeys<S extends Shape> = Exclude<keyof S, RequiredKeys<S>>;
export type Infer<S extends Shape> = { [K in RequiredKeys<S>]: Value<S[K]> } & { [K in OptionalKeys<S>]?: Value<S[K]> };

type Opts<S> = Omit<S, "t" | "required"> & { required?: true };
function mk<S extends Spec>(t: S["t"], o: object | undefined): S {
  return { required: false, ...o, t } as S;
}

export const p = {
  string: <O extends Opts<StringSpec>>(o?: O) => mk<StringSpec<O["required"] extends true ? true : false>>("string", o),
  integer: <O extends Opts<IntegerSpec>>(o?: O) =>
    mk<IntegerSpec<O["required"] extends true ? true : false>>("integer", o),
  boolean: <O extends Opts<BooleanSpec>>(o?: O) =>
    mk<BooleanSpec<O["required"] extends true ? true : false>>("boolean", o),
  list: <I extends Spec, O extends Opts<Omit<ListSpec, "item">>>(item: I, o?: O) =>
    ({ required: false, ...o, t: "list", item }) as ListSpec<O["required"] extends true ? true : false, I>,
  struct: <S extends Shape, O extends Opts<Omit<StructSpec, "shape">>>(shape: S, o?: O) =>
    ({ required: false, ...o, t: "struct", shape }) as StructSpec<O["required"] extends true ? true : false, S>,
};

/** `Filter.N.Name` / `Filter.N.Value.M`, shared by every Describe action. */
export const filterList = () => p.list(p.struct({ Name: p.string({ required: true }), Value: p.list(p.string()) }));
export type Filter = { Name: string; Value?: string[] };

interface Node {
  value?: string;
  children: Map<string, Node>;
}

function buildTree(pairs: ReadonlyArray<readonly [string, string]>): Node {
  const root: Node = { children: new Map() };
  const seen = new Set<string>();
  for (const [name, value] of pairs) {
    if (seen.has(name)) throw new Ec2Error("InvalidParameterValue", `The parameter ${name} was given more than once`);
    seen.add(name);
    let node = root;
    for (const part of name.split(".")) {
      if (part === "") throw new Ec2Error("UnknownParameter", `The parameter ${name} is not recognized`);
      let next = node.children.get(part);
      if (!next) node.children.set(part, (next = { children: new Map() }));
      node = next;
    }
    node.value = value;
  }
  return root;
}

function decodeValue(spec: Spec, node: Node, path: string): unknown {
  switch (spec.t) {
    case "string":
    case "integer":
    case "boolean": {
      if (node.children.size > 0 || node.value === undefined) {
        const child = [...node.children.keys()][0];
        throw new Ec2Error("UnknownParameter", `The parameter ${path}.${child} is not recognized`);
      }
      return decodeScalar(spec, node.value, path);
    }
    case "list": {
      if (node.value !== undefined)
        throw new Ec2Error("InvalidParameterValue", `The parameter ${path} is a list: send ${path}.1, ${path}.2, …`);
      const items: Array<[number, Node]> = [];
      for (const [key, child] of node.children) {
        if (!/^[1-9]\d{0,4}$/.test(key)) {
          throw new Ec2Error(
            "InvalidParameterValue",
            `Invalid index '${key}' in ${path}.${key}: list indexes are positive integers starting at 1`,
          );
        }
        items.push([Number(key), child]);
      }
      if (spec.maxItems !== undefined && items.length > spec.maxItems) {
        throw new Ec2Error(
          "InvalidParameterValue",
          `The list ${path} has ${items.length} items; at most ${spec.maxItems} are allowed`,
        );
      }
      return items.sort(([a], [b]) => a - b).map(([i, child]) => decodeValue(spec.item, child, `${path}.${i}`));
    }
    case "struct": {
      if (node.value !== undefined)
        throw new Ec2Error("InvalidParameterValue", `The parameter ${path} is a structure, not a value`);
      return decodeShape(spec.shape, node, `${path}.`);
    }
  }
}

function decodeScalar(spec: StringSpec | IntegerSpec | BooleanSpec, raw: string, path: string): unknown {
  if (spec.t === "boolean") {
    if (raw === "true" || raw === "false") return raw === "true";
    throw new Ec2Error(
      "InvalidParameterValue",
      `Value (${raw}) for parameter ${path} is invalid. Expected true or false.`,
    );
  }
  if (spec.t === "integer") {
    if (!/^-?\d{1,15}$/.test(raw))
      throw new Ec2Error(
        "InvalidParameterValue",
        `Value (${raw}) for parameter ${path} is invalid. Expected an integer.`,
      );
    const n = Number(raw);
    if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `Value (${raw}) for parameter ${path} is out of range [${spec.min ?? "-"}, ${spec.max ?? "-"}].`,
      );
    }
    return n;
  }
  if (spec.maxLength !== undefined && raw.length > spec.maxLength) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Value for parameter ${path} is longer than ${spec.maxLength} characters.`,
    );
  }
  if (spec.enum && !spec.enum.includes(raw)) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Value (${raw}) for parameter ${path} is invalid. Valid values: ${spec.enum.join(", ")}.`,
    );
  }
  if (spec.pattern && !spec.pattern.test(raw)) {
    throw new Ec2Error("InvalidParameterValue", `Value (${raw}) for parameter ${path} is invalid.`);
  }
  return raw;
}

function decodeShape(shape: Shape, node: Node, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of node.children) {
    const spec = Object.hasOwn(shape, key) ? shape[key] : undefined; // "constructor" is a parameter name, not Object's
    if (!spec) throw new Ec2Error("UnknownParameter", `The parameter ${prefix}${key} is not recognized`);
    out[key] = decodeValue(spec, child, `${prefix}${key}`);
  }
  for (const [key, spec] of Object.entries(shape)) {
    if (spec.required && out[key] === undefined)
      throw new Ec2Error("MissingParameter", `The request must contain the parameter ${prefix}${key}`);
  }
  return out;
}

/** Decodes an action's parameters (auth, Action and Version already removed). */
export function decodeParams<S extends Shape>(shape: S, pairs: ReadonlyArray<readonly [string, string]>): Infer<S> {
  return decodeShape(shape, buildTree(pairs), "") as Infer<S>;
}
