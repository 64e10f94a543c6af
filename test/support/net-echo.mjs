// A stand-in service for network tests, run inside a namespace: on each TCP port given,
// says who it is and who called ("<name>:<port> from <address>"), then echoes lines; an
// HTTP request (GET …) is answered with the caller's address alone (a "whoami" / metadata
// server that identifies its caller by source address, as euca's metadata service does).
import { createServer } from "node:net";
const [name, ...ports] = process.argv.slice(2);
for (const port of ports) {
  createServer((s) => {
    let first = true;
    s.on("data", (d) => {
      if (first && d.toString().startsWith("GET ")) {
        const body = `${s.remoteAddress.replace(/^::ffff:/, "")}\n`;
        s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        return;
      }
      first = false;
      s.write(d);
    });
    s.on("error", () => undefined);
    setTimeout(
      () => first && !s.destroyed && s.write(`${name}:${port} from ${s.remoteAddress.replace(/^::ffff:/, "")}\n`),
      50,
    );
  }).listen(Number(port), "0.0.0.0", () => process.stdout.write(`listening ${port}\n`));
}
