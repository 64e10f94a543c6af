// A write loop against the test guest's disk port (2224), run inside a namespace: every
// `everyMs` writes "n" to the volume's first sector and counts the guest's answers. On
// SIGTERM reads the sector back and prints one JSON line: writes acknowledged, failed or
// unanswered, the last acknowledged value and what the disk holds.
import { createConnection } from "node:net";
const [host, volumeId, everyMs = "200"] = process.argv.slice(2);
let acked = 0;
let failed = 0;
let sent = 0;
let last = "";
let readBack;
let buf = "";
let ready = false;
const s = createConnection({ host, port: 2224 });
s.on("data", (d) => {
  buf += d;
  for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line === "END") {
      ready = true;
      process.stdout.write("ready\n");
    } else if (line === `WROTE ${volumeId}`) {
      acked++;
      last = String(acked);
    } else if (line === `FAILED ${volumeId}`) failed++;
    else if (line.startsWith(`READ ${volumeId} `)) {
      readBack = line.slice(`READ ${volumeId} `.length);
      done();
    }
  }
});
// Each write carries the number it will be acknowledged as (answers come back in order).
const timer = setInterval(() => {
  if (!ready || sent > acked + failed) return; // one at a time
  sent++;
  s.write(`write ${volumeId} ${sent}\n`);
}, Number(everyMs));
function done() {
  clearInterval(timer);
  process.stdout.write(`${JSON.stringify({ sent, acked, failed, last, readBack })}\n`);
  process.exit(0);
}
s.on("error", (e) => {
  process.stdout.write(`${JSON.stringify({ error: e.message, sent, acked, failed, last })}\n`);
  process.exit(1);
});
process.on("SIGTERM", () => {
  clearInterval(timer);
  const wait = setInterval(() => {
    if (sent > acked + failed) return; // the write under way is answered first
    clearInterval(wait);
    s.write(`read ${volumeId}\n`);
  }, 50);
});
