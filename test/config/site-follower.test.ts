/**
 * A joined host following the head's site settings: a value changed on the head is written
 * into the host's config file and reported pending (logged once, not every round); a
 * setting the head no longer gives leaves the file; a silent head changes nothing.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "../../src/common/logger";
import { followSiteSettings } from "../../src/config/site-follower";
import { tempDir } from "../support/cloud";
import { until } from "../support/until";

function logSink() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger("info", sink), lines };
}

describe("following the head's site settings", () => {
  it("writes the head's values into the config file, says so once, and keeps quiet while the head is silent", async () => {
    const file = join(tempDir(), "euca.conf");
    writeFileSync(file, "ROLE=cc,sc\nSCHEDPOLICY=GREEDY\nVNET_DNS=192.0.2.53\n");
    let head: Record<string, string> | undefined = { SCHEDPOLICY: "ROUNDROBIN", VNET_MODE: "MANAGED" };
    let asked = 0;
    const { log, lines } = logSink();
    const f = followSiteSettings({
      fetch: async () => {
        asked++;
        if (!head) throw new Error("unreachable");
        return head;
      },
      running: { SCHEDPOLICY: "GREEDY", VNET_DNS: "192.0.2.53", VNET_MODE: "MANAGED" },
      configFile: file,
      everyMs: 20,
      log,
    });
    try {
      await until(() => f.pending().length > 0);
      expect(f.pending()).toEqual(["SCHEDPOLICY", "VNET_DNS"]);
      const text = readFileSync(file, "utf8");
      expect(text).toMatch(/^SCHEDPOLICY=ROUNDROBIN$/m);
      expect(text).not.toMatch(/VNET_DNS/); // the head gives none: the line leaves
      expect(text).toMatch(/^ROLE=cc,sc$/m);
      const seen = asked;
      await until(() => asked > seen + 3);
      expect(lines.filter((l) => l.includes("site settings changed on the head"))).toHaveLength(1);
      head = undefined; // silent: nothing changes, nothing more is said
      const quiet = asked;
      await until(() => asked > quiet + 3);
      expect(f.pending()).toEqual(["SCHEDPOLICY", "VNET_DNS"]);
      expect(lines.filter((l) => l.includes("site settings"))).toHaveLength(1);
    } finally {
      f.stop();
    }
  });
});
