/**
 * The failure tests' TCP stream (test/support/tcp-stream.mjs) kept sending for the 500 ms
 * it waited after SIGTERM, so a line sent just before it reported could still be on its way
 * back: CI once failed the NC-kill test with 386 of 387 lines echoed, through no fault of
 * the cloud. Now it stops sending at the signal and waits for what is in flight.
 */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";

const TCP_STREAM = join(__dirname, "../support/tcp-stream.mjs");

describe("regression: the TCP stream helper and echoes still on their way", () => {
  it("counts every line as echoed when the far end answers each one 300 ms late", async () => {
    const sockets: Socket[] = [];
    // An echo server that answers each line 300 ms late: longer than the old 500 ms wait minus one send interval.
    const server = createServer((s) => {
      sockets.push(s);
      s.on("data", (d) => setTimeout(() => s.writable && s.write(d), 300));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const p = spawn(process.execPath, [TCP_STREAM, "127.0.0.1", String(port), "50"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      while (!out.includes("connected")) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 1_000));
      p.kill("SIGTERM");
      await new Promise((r) => p.on("exit", r));
      const result = JSON.parse(out.split("\n").find((l) => l.startsWith("{"))!) as {
        sent: number;
        echoed: number;
        closed: boolean;
      };
      expect(result.closed).toBe(false);
      expect(result.sent).toBeGreaterThan(5);
      expect(result.echoed).toBe(result.sent);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
