/**
 * `Expect: 100-continue`. Node answers 100 at once unless the server listens for
 * 'checkContinue'; euca listens, so that an S3 upload is told to send its body only
 * once it is authenticated and would be accepted (and a refused one gets its final
 * status without sending a byte). Other routes are told to continue at once. Expect
 * values other than 100-continue are ignored, as S3 ignores them (Node would answer 417).
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";

const deferred = new WeakSet<IncomingMessage>();

/** Whether this request waits for the handler to call `res.writeContinue()` before sending its body. */
export function awaitsContinue(req: IncomingMessage): boolean {
  return deferred.has(req);
}

export function handleExpect(server: Server, deferFor?: (path: string) => boolean): void {
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (deferFor?.(req.url ?? "/")) deferred.add(req);
    else res.writeContinue();
    server.emit("request", req, res);
  });
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => server.emit("request", req, res));
}
