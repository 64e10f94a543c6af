/**
 * tgtd's management interface, spoken directly: what `tgtadm` sends, without `tgtadm`.
 * A CHAP account's password on tgtadm's command line is readable by every local user
 * in /proc/<pid>/cmdline; over this socket (root's, 0755 /var/run/tgtd) it is not.
 *
 * The wire (tgt 1.0.85, usr/tgtadm.h and usr/tgtadm.c): a fixed `struct tgtadm_req`
 * (x86-64 layout below), then the parameters as one NUL-terminated
 * "key=value,key=value" string; the answer is `struct tgtadm_rsp` {err, len} and, when
 * len is larger, the text `tgtadm` would print. One connection per request.
 */
import { createConnection } from "node:net";

export const TGT_IPC_DIR = "/var/run/tgtd";

const MODES = { system: 0, target: 1, device: 2, portal: 3, lld: 4, session: 5, connection: 6, account: 7 } as const;
const OPS = { new: 0, delete: 1, show: 2, bind: 3, unbind: 4, update: 5 } as const;
const REQ_SIZE = 120;
const RSP_SIZE = 8;
const LLD_LEN = 64;
const NO_TID = -1;
const NO_LUN = 0xffff_ffff_ffff_ffffn;
/** What tgtd answers with (tgtadm_error.h), for the few a caller tells apart. */
export const TGT_ERRORS = { noTarget: 4, noUser: 15 } as const;
const ERROR_TEXT: Record<number, string> = {
  1: "unknown error",
  2: "out of memory",
  3: "can't find the driver",
  4: "can't find the target",
  5: "can't find the logical unit",
  6: "can't find the session",
  7: "can't find the connection",
  8: "can't find the binding",
  9: "this target already exists",
  10: "this logical unit number already exists",
  11: "this binding already exists",
  12: "this access control rule already exists",
  13: "this access control rule does not exist",
  14: "this account already exists",
  15: "can't find the account",
  16: "too many accounts",
  17: "invalid request",
  18: "this target already has an outgoing account",
  19: "this target is still active",
  20: "this logical unit is still active",
  21: "this driver is busy",
  22: "this operation isn't supported",
  23: "unknown parameter",
  24: "this device has Prevent Removal set",
};

export class TgtError extends Error {
  constructor(
    readonly code: number,
    what: string,
  ) {
    super(`tgtd: ${what}: ${ERROR_TEXT[code] ?? `error ${code}`}`);
  }
}

export interface TgtRequest {
  mode: keyof typeof MODES;
  op: keyof typeof OPS;
  tid?: number;
  lun?: number;
  force?: boolean;
  /** key=value parameters (values must not hold ',' or NUL). */
  params?: Record<string, string>;
}

/** The request as tgtd reads it. */
export function encodeTgtRequest(r: TgtRequest, lld = "iscsi"): Buffer {
  const params = Object.entries(r.params ?? {})
    .map(([k, v]) => {
      if (/[,=\0]/.test(k) || /[,\0]/.test(v)) throw new Error(`tgtd parameter ${k} holds a ',' or NUL`);
      return `${k}=${v}`;
    })
    .join(",");
  const body = params ? Buffer.from(`${params}\0`) : Buffer.alloc(0);
  const h = Buffer.alloc(REQ_SIZE);
  h.writeUInt32LE(MODES[r.mode], 0);
  h.writeUInt32LE(OPS[r.op], 4);
  h.write(lld, 8, LLD_LEN - 1, "latin1");
  h.writeUInt32LE(REQ_SIZE + body.length, 72);
  h.writeInt32LE(r.tid ?? NO_TID, 76);
  h.writeBigUInt64LE(0n, 80); // sid
  h.writeBigUInt64LE(r.lun === undefined ? NO_LUN : BigInt(r.lun), 88);
  // cid, host_no, device_type (0: disk), ac_dir (0: incoming), pack: all 0.
  h.writeUInt32LE(r.force ? 1 : 0, 116);
  return Buffer.concat([h, body]);
}

/** A client of the tgtd listening on management port `controlPort` (tgtd -C). */
export function createTgtAdmin(o: { controlPort: number; dir?: string; timeoutMs?: number }) {
  const path = `${o.dir ?? TGT_IPC_DIR}/socket.${o.controlPort}`;

  /** Sends one request; resolves with tgtd's text, rejects with a TgtError (or a socket error when tgtd is not there). */
  function request(r: TgtRequest): Promise<string> {
    const wire = encodeTgtRequest(r);
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      const parts: Buffer[] = [];
      let size = 0;
      const ms = o.timeoutMs ?? 15_000;
      const timer = setTimeout(() => s.destroy(new Error(`tgtd did not answer ${r.op} ${r.mode} within ${ms} ms`)), ms);
      s.on("connect", () => s.write(wire)); // tgtd answers, then closes
      s.on("data", (b: Buffer) => {
        parts.push(b);
        size += b.length;
        if (size > 16 * 1024 * 1024) s.destroy(new Error("tgtd's answer is larger than 16 MiB"));
      });
      s.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      s.on("close", () => {
        clearTimeout(timer);
        const all = Buffer.concat(parts);
        if (all.length < RSP_SIZE) {
          return reject(
            new Error(`tgtd closed the connection after ${all.length} bytes of its answer to ${r.op} ${r.mode}`),
          );
        }
        const err = all.readUInt32LE(0);
        if (err !== 0) return reject(new TgtError(err, `${r.op} ${r.mode}`));
        resolve(all.subarray(RSP_SIZE, all.readUInt32LE(4)).toString("utf8").replace(/\0+$/, ""));
      });
    });
  }

  return {
    request,
    /** Whether a tgtd answers on this port. */
    async running(): Promise<boolean> {
      return request({ mode: "target", op: "show" }).then(
        () => true,
        () => false,
      );
    },
  };
}

export type TgtAdmin = ReturnType<typeof createTgtAdmin>;
