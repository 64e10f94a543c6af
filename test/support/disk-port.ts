/** The test guest's disk port (scripts/test-guest.sh, port 2224). */
import { createConnection } from "node:net";

/** A session with the test guest's disk port (2224): the disks it lists, then one answer per command. */
export function diskPort(
  host: string,
): Promise<{ listed: string[]; ask(cmd: string): Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host, port: 2224 });
    const lines: string[] = [];
    const waiters: Array<(l: string) => void> = [];
    let buf = "";
    let listed: string[] | undefined;
    sock.setEncoding("utf8");
    sock.setTimeout(20_000, () => sock.destroy(new Error("the guest's disk port said nothing")));
    sock.on("error", reject);
    sock.on("close", () => reject(new Error("the guest's disk port closed")));
    sock.on("data", (d: string) => {
      buf += d;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!listed) {
          if (line === "END") {
            listed = [...lines];
            resolve({
              listed,
              ask: (cmd) =>
                new Promise((r) => {
                  waiters.push(r);
                  sock.write(`${cmd}\n`);
                }),
              close: () => sock.destroy(),
            });
          } else lines.push(line);
        } else waiters.shift()?.(line);
      }
    });
  });
}
