import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { handleExpect } from "./expect-continue";

/** A server certificate, and for internal listeners the CA whose client certificates are asked for. */
export interface TlsServerOptions {
  cert: string;
  key: string;
  ca?: string;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

export interface Listening {
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on host:port (0 = any free port) and resolves once bound. `deferContinue`
 * names the paths whose handlers send `100 Continue` themselves (S3 uploads).
 */
export async function listen(
  app: Hono,
  host: string,
  port: number,
  o: { deferContinue?: (path: string) => boolean; tls?: TlsServerOptions } = {},
): Promise<Listening> {
  const server = (
    o.tls
      ? createAdaptorServer({
          fetch: app.fetch,
          createServer: createHttpsServer,
          serverOptions: { ...o.tls, minVersion: "TLSv1.2" },
        })
      : createAdaptorServer({ fetch: app.fetch })
  ) as Server;
  server.keepAliveTimeout = 65_000;
  handleExpect(server, o.deferContinue);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
