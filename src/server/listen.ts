import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
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

/** A TLS record starts with this byte (a handshake); an HTTP request with a method's letter. */
const TLS_HANDSHAKE = 0x16;

/**
 * Listens on host:port (0 = any free port) and resolves once bound. `deferContinue`
 * names the paths whose handlers send `100 Continue` themselves (S3 uploads). With `tls`
 * and `plain`, the port speaks both: a connection that opens with a TLS handshake gets
 * `app`, one that opens in plain HTTP gets `plain` (guests' metadata, which cannot use
 * TLS, and hosts that sign their calls) — told by its first byte.
 */
export async function listen(
  app: Hono,
  host: string,
  port: number,
  o: { deferContinue?: (path: string) => boolean; tls?: TlsServerOptions; plain?: Hono } = {},
): Promise<Listening> {
  const http = (a: Hono) => prepared(createAdaptorServer({ fetch: a.fetch }) as Server, o.deferContinue);
  const main = o.tls
    ? prepared(
        createAdaptorServer({
          fetch: app.fetch,
          createServer: createHttpsServer,
          serverOptions: { ...o.tls, minVersion: "TLSv1.2" },
        }) as Server,
        o.deferContinue,
      )
    : http(app);
  const plain = o.tls && o.plain ? http(o.plain) : undefined;
  const servers = plain ? [main, plain] : [main];
  const undecided = new Set<Socket>();
  const front = plain ? createNetServer({ pauseOnConnect: true }, (s) => dispatch(s, main, plain, undecided)) : main;
  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(port, host, () => {
      front.off("error", reject);
      resolve();
    });
  });
  // The servers behind the front track their connections (idle ones closed at close, headers timeouts) once told they listen.
  for (const s of servers) if (s !== front) s.emit("listening");
  return {
    port: (front.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const s of undecided) s.destroy();
        for (const s of servers) {
          if (s !== front) s.close();
          s.closeIdleConnections();
          setTimeout(() => s.closeAllConnections(), 2000).unref();
        }
      }),
  };
}

function prepared(server: Server, deferContinue?: (path: string) => boolean): Server {
  server.keepAliveTimeout = 65_000;
  handleExpect(server, deferContinue);
  return server;
}

/** How long a connection may stay silent before its first byte (as Node's own headers timeout, shorter). */
const FIRST_BYTE_MS = 20_000;

/** Hands the connection to the TLS server or the plain one by its first byte, which stays unread for it. */
function dispatch(socket: Socket, tls: Server, plain: Server, undecided: Set<Socket>): void {
  undecided.add(socket);
  const gone = () => socket.destroy(); // closed, failed or silent before its first byte
  socket
    .once("end", gone)
    .once("error", gone)
    .once("close", () => undecided.delete(socket));
  socket.setTimeout(FIRST_BYTE_MS, gone);
  const pick = (): void => {
    const first = socket.read(1) as Buffer | null;
    if (first === null) return void socket.once("readable", pick);
    undecided.delete(socket);
    socket.setTimeout(0);
    socket.off("end", gone).off("error", gone).off("timeout", gone);
    socket.unshift(first);
    (first[0] === TLS_HANDSHAKE ? tls : plain).emit("connection", socket);
  };
  pick();
}
