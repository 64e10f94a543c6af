import type { Logger } from "pino";
import type { Principal } from "../../roles/clc/identity/identity-service";
import type { Ec2Services } from "./services";
import type { Infer, Shape } from "./params";
import type { FragmentCache, XmlObject } from "./xml";

/** Made once per request at the edge and handed to the action. */
export interface Ec2Context {
  requestId: string;
  principal: Principal;
  version: string;
  log: Logger;
  services: Ec2Services;
  /** Rendered list items kept between requests (per EC2 app, so per cloud). */
  fragments: FragmentCache;
}

/** An EC2 action: a declared parameter spec and a typed handler returning the response body. */
export interface Ec2Action<S extends Shape = Shape> {
  name: string;
  params: S;
  /** Parameters are not read at all (an action that refuses whatever it is given). */
  anyParams?: true;
  handler(input: Infer<S>, ctx: Ec2Context): Promise<XmlObject> | XmlObject;
}

export function defineAction<S extends Shape>(a: Ec2Action<S>): Ec2Action<S> {
  return a;
}
