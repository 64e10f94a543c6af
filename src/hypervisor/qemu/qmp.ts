/**
 * A minimal QMP client: one connection per use (connect, greeting, qmp_capabilities,
 * commands matched to replies by id, events collected as they come). QEMU answers
 * in milliseconds, so a connection per operation keeps the driver stateless across
 * NC restarts.
 */
import { createConnection, type Socket } from "node:net";

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
}

export class QmpError extends Error {
  constructor(
    readonly cls: string,
    message: string,
  ) {
    super(message);
  }
}

export class QmpConnection {
  private buf = "";
  private nextId = 1;
  private readonly pending = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly events: QmpEvent[] = [];
  private readonly eventWaiters: Array<() => void> = [];
  private greeted?: () => void;
  private closed = false;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => this.onData(d));
    sock.on("close", () => this.fail(new Error("QMP connection closed")));
    sock.on("error", (e) => this.fail(e));
  }

  /** Connects, reads the greeting and leaves capabilities negotiation mode. */
  static async open(path: string, timeoutMs = 5000): Promise<QmpConnection> {
    const sock = createConnection(path);
    const c = new QmpConnection(sock);
    const timer = setTimeout(
      () => sock.destroy(new Error(`QMP at ${path} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        c.greeted = resolve;
        sock.once("error", reject);
      });
      await c.execute("qmp_capabilities");
      return c;
    } catch (e) {
      sock.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      const m = JSON.parse(line) as {
        QMP?: unknown;
        id?: string;
        return?: unknown;
        error?: { class: string; desc: string };
        event?: string;
        data?: Record<string, unknown>;
      };
      if (m.QMP) this.greeted?.();
      else if (m.event) {
        this.events.push({ event: m.event, data: m.data });
        for (const w of this.eventWaiters.splice(0)) w();
      } else if (m.id && this.pending.has(m.id)) {
        const p = this.pending.get(m.id)!;
        this.pending.delete(m.id);
        if (m.error) p.reject(new QmpError(m.error.class, m.error.desc));
        else p.resolve(m.return);
      }
    }
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const w of this.eventWaiters.splice(0)) w();
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("QMP connection closed"));
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + "\n");
    });
  }

  /** Waits for an event matching `match` (events that already arrived count). */
  async waitEvent(match: (e: QmpEvent) => boolean, timeoutMs: number): Promise<QmpEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex(match);
      if (i >= 0) return this.events.splice(i, 1)[0];
      if (this.closed || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.eventWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

/** Runs `fn` on a fresh connection and closes it. */
export async function withQmp<T>(path: string, fn: (c: QmpConnection) => Promise<T>): Promise<T> {
  const c = await QmpConnection.open(path);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}
