/**
 * Raw HTTP for refused-request tests: a body sent in pieces while the answer is
 * awaited, so a test can tell that the server answered before reading the body
 * (or cut the connection), and how much of the body it took.
 */
import { request } from "node:http";
import { readFileSync } from "node:fs";

export interface RawAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** Body bytes written before the answer came (or the socket closed). */
  sent: number;
}

/**
 * Sends `body` (a buffer, or `size` bytes of zeros written in 1 MiB pieces that stop
 * once an answer arrives) and resolves with the answer. A connection closed without
 * an answer rejects.
 */
export function rawRequest(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: Buffer; size?: number; chunked?: boolean },
): Promise<RawAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> = { ...o.headers };
    if (o.body && !o.chunked) headers["content-length"] ??= String(o.body.length);
    if (o.size !== undefined && !o.chunked) headers["content-length"] ??= String(o.size);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? "PUT", headers },
      (res) => {
        answered = true;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers, sent }));
        res.on("error", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers, sent }));
      },
    );
    // A server that answers early and closes may make our write fail before its answer is read: wait for it a moment.
    req.on("error", (e) => setTimeout(() => answered || reject(e), 500));
    if (o.body) {
      sent = o.body.length;
      req.end(o.body);
      return;
    }
    const piece = Buffer.alloc(1024 * 1024);
    const total = o.size ?? 0;
    const pump = () => {
      while (!answered && !req.destroyed && sent < total) {
        const n = Math.min(piece.length, total - sent);
        sent += n;
        if (!req.write(n === piece.length ? piece : piece.subarray(0, n))) return void req.once("drain", pump);
      }
      if (!answered && !req.destroyed && sent >= total) req.end();
    };
    pump();
  });
}

/** Resident memory of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}
