// A long TCP conversation for failure tests, run inside a namespace: connects to host:port,
// sends a numbered line every `everyMs`, and counts the lines echoed back. On SIGTERM (or
// when the connection ends) prints one JSON line: how many were sent and echoed, the
// longest wait for an echo, and whether the connection was closed under it.
import { createConnection } from "node:net";
const [host, port, everyMs = "100"] = process.argv.slice(2);
let sent = 0;
let echoed = 0;
let closed = false;
let maxWaitMs = 0;
const sentAt = new Map();
let buf = "";
const s = createConnection({ host, port: Number(port) });
s.setNoDelay(true);
s.on("data", (d) => {
  buf += d;
  for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const m = /^seq (\d+)$/.exec(line);
    if (!m) continue;
    const at = sentAt.get(m[1]);
    if (at !== undefined) {
      echoed++;
      maxWaitMs = Math.max(maxWaitMs, Date.now() - at);
      sentAt.delete(m[1]);
    }
  }
});
const timer = setInterval(() => {
  if (closed) return;
  sent++;
  sentAt.set(String(sent), Date.now());
  s.write(`seq ${sent}\n`);
}, Number(everyMs));
const report = () => {
  clearInterval(timer);
  process.stdout.write(`${JSON.stringify({ sent, echoed, maxWaitMs, closed })}\n`);
  process.exit(0);
};
s.on("connect", () => process.stdout.write("connected\n"));
s.on("error", () => (closed = true));
s.on("close", () => (closed = true));
// On SIGTERM stop sending at once, then wait (up to 15 s) for the echoes still in flight, so
// a line written just before the signal is not counted as lost — nor lines held up by TCP's
// retransmission backoff after a pause (a live migration's on a loaded machine: a CI run
// beside other work counted 80 lines lost 7 s after a move; the test passes alone).
process.on("SIGTERM", () => {
  clearInterval(timer);
  const deadline = Date.now() + 15_000;
  const settle = () => (sentAt.size === 0 || closed || Date.now() > deadline ? report() : setTimeout(settle, 50));
  settle();
});
