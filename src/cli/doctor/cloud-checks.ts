/**
 * What a host needs of the cloud: its certificate (issued by the cloud CA, not expired,
 * not revoked), the CLC and Walrus reachable over mutual TLS with it, a clock that agrees
 * with the CLC's, and the site's settings as the CLC has them.
 */
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { certificateFacts, issuedBy, revokedSerials } from "../../auth/x509";
import { systemClock } from "../../common/clock";
import { randomIds } from "../../common/ids";
import { NotFoundError } from "../../common/errors";
import { siteSettingsOf } from "../../config/site-settings";
import { createHttpClient } from "../../rpc/http-client";
import { loadHostTls, type HostTls } from "../../rpc/host-tls";
import { CLOUD_METHODS, CLOUD_ROLE, type CloudClient } from "../../roles/clc/clusters/cloud-rpc";
import { createHttpWalrusClient } from "../../roles/walrus/http-client";
import { fail, pass, warn, type Check, type CheckResult, type DoctorContext } from "./check";

const DAY = 24 * 3600 * 1000;
const ctx = () => ({ requestId: `doctor-${randomIds.nonce()}` });
const joinHint = (c: DoctorContext) =>
  c.has("nc")
    ? `on the CLC host: euca admin node add NAME --cluster ${c.s.clusterName}; here: euca join <token>`
    : `on the CLC host: euca admin cluster add ${c.s.clusterName}; here: euca join <token>`;

function certificate(c: DoctorContext): CheckResult {
  const l = c.layout;
  if (!existsSync(l.hostCert)) {
    if (c.has("clc")) return pass("cert.host", "the head makes its own certificate from its CA at start");
    if (existsSync(l.componentKeys))
      return warn(
        "cert.host",
        "this host was registered with a key: its internal calls are signed but travel in clear",
        `join by token instead (${joinHint(c)})`,
      );
    return fail("cert.host", "this host has not joined a cloud (no host certificate)", joinHint(c));
  }
  const pem = readFileSync(l.hostCert, "utf8");
  const f = certificateFacts(pem);
  if (!existsSync(l.cloudCert) || !issuedBy(pem, readFileSync(l.cloudCert, "utf8")))
    return fail(
      "cert.host",
      "the host certificate is not from the cloud CA kept beside it",
      `join again (${joinHint(c)})`,
    );
  const left = f.notAfter.getTime() - c.now.getTime();
  if (left <= 0)
    return fail(
      "cert.host",
      `the host certificate expired on ${f.notAfter.toISOString()}`,
      `join again (${joinHint(c)})`,
    );
  if (f.notBefore.getTime() > c.now.getTime())
    return fail(
      "cert.host",
      `the host certificate is not valid before ${f.notBefore.toISOString()}: is this clock right?`,
      "set the clock (run NTP)",
    );
  if (left < 30 * DAY)
    return warn(
      "cert.host",
      `the host certificate expires on ${f.notAfter.toISOString()}`,
      `join again before then (${joinHint(c)})`,
    );
  return pass(
    "cert.host",
    `host certificate for ${f.uris.join(" ")} valid until ${f.notAfter.toISOString().slice(0, 10)}`,
  );
}

async function revocation(c: DoctorContext): Promise<CheckResult | undefined> {
  const l = c.layout;
  if (!existsSync(l.hostCert) || !existsSync(l.cloudCert)) return undefined;
  if (!existsSync(l.revocations))
    return warn("cert.revoked", "no revocation list yet", "start euca: it fetches the list from the CLC");
  try {
    const revoked = await revokedSerials(readFileSync(l.revocations, "utf8"), readFileSync(l.cloudCert, "utf8"));
    return revoked.has(certificateFacts(readFileSync(l.hostCert, "utf8")).serial)
      ? fail(
          "cert.revoked",
          "this host's certificate has been revoked (the host was removed)",
          `join again (${joinHint(c)})`,
        )
      : pass("cert.revoked", `not revoked (${revoked.size} certificate${revoked.size === 1 ? "" : "s"} on the list)`);
  } catch (e) {
    return fail(
      "cert.revoked",
      `the revocation list does not verify: ${(e as Error).message}`,
      "delete it; euca fetches it again from the CLC",
    );
  }
}

/** The CLC's clock, from the Date of an answer on its internal listener (TLS to the cloud CA only). */
function clcDate(url: string, tls: HostTls): Promise<Date> {
  return new Promise((resolve, reject) => {
    const req = request(new URL("/join/ca", url), { ca: tls.caPem, timeout: 5000 }, (res) => {
      res.resume();
      const d = new Date(String(res.headers.date));
      if (Number.isNaN(d.getTime())) reject(new Error("the CLC sent no date"));
      else resolve(d);
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", reject);
    req.end();
  });
}

async function reachAndAgree(c: DoctorContext): Promise<CheckResult[] | undefined> {
  const tls = loadHostTls(c.layout);
  if (c.has("clc") || !tls || !c.s.clcUrl) return undefined;
  const out: CheckResult[] = [];
  const cloud = createHttpClient<CloudClient>(CLOUD_METHODS, {
    baseUrl: c.s.clcUrl,
    role: CLOUD_ROLE,
    serverRole: "clc",
    tls,
    clock: systemClock,
    ids: randomIds,
    timeoutMs: 5000,
  });
  let site: Record<string, string> | undefined;
  try {
    site = (await cloud.siteSettings({}, ctx())).settings;
    out.push(pass("reach.clc", `the CLC at ${c.s.clcUrl} answers this host's certificate`));
  } catch (e) {
    out.push(
      fail(
        "reach.clc",
        `the CLC at ${c.s.clcUrl}: ${(e as Error).message}`,
        "check the head runs, the route to it, and that this host was not removed",
      ),
    );
  }
  try {
    const skew = (c.now.getTime() - (await clcDate(c.s.clcUrl, tls)).getTime()) / 1000;
    const what = `this clock is ${Math.abs(skew).toFixed(0)} s ${skew >= 0 ? "ahead of" : "behind"} the CLC's`;
    out.push(
      Math.abs(skew) > 300
        ? fail(
            "clock.skew",
            what,
            "run NTP (chrony or systemd-timesyncd) on every host: requests and certificates are refused outside 5 minutes",
          )
        : Math.abs(skew) > 30
          ? warn("clock.skew", what, "run NTP on every host")
          : pass("clock.skew", what),
    );
  } catch (e) {
    out.push(
      fail(
        "clock.skew",
        `cannot read the CLC's clock: ${(e as Error).message}`,
        "check the head runs and the route to it",
      ),
    );
  }
  if ((c.has("nc") || c.has("sc")) && !c.has("walrus") && c.s.walrusUrl.startsWith("https:")) {
    const walrus = createHttpWalrusClient({ baseUrl: c.s.walrusUrl, tls, clock: systemClock, ids: randomIds });
    try {
      await walrus.headObject({ bucket: "euca-doctor", key: "probe" }, ctx()).catch((e: Error) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
      out.push(pass("reach.walrus", `Walrus at ${c.s.walrusUrl} answers this host's certificate`));
    } catch (e) {
      out.push(
        fail(
          "reach.walrus",
          `Walrus at ${c.s.walrusUrl}: ${(e as Error).message}`,
          "check the head runs Walrus and the route to it",
        ),
      );
    }
  }
  if (site) {
    const mine = siteSettingsOf(c.s);
    const differ = [...new Set([...Object.keys(site), ...Object.keys(mine)])].filter((k) => site[k] !== mine[k]);
    out.push(
      differ.length
        ? warn(
            "settings.site",
            `differs from the cloud's: ${differ.map((k) => `${k}=${mine[k] ?? "(unset)"} here, ${site[k] ?? "(unset)"} on the CLC`).join("; ")}`,
            "change it on the CLC (the site's settings are the cloud's), or take the cloud's into this host's config file",
          )
        : pass("settings.site", `the site's ${Object.keys(site).length} settings agree with the CLC's`),
    );
  }
  return out;
}

export const CLOUD_CHECKS: Check[] = [certificate, revocation, reachAndAgree];
