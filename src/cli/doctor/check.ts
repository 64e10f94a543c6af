/** One line of `euca doctor`: a stable id, PASS / WARN / FAIL, what was found, and for a non-pass the fix. */
import type { DataDirLayout } from "../../common/data-dir";
import type { Settings } from "../../config/settings";

export type CheckStatus = "PASS" | "WARN" | "FAIL";

export interface CheckResult {
  id: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DoctorContext {
  s: Settings;
  layout: DataDirLayout;
  /** Whether a role runs on this host (the settings' roles, or --role). */
  has(role: string): boolean;
  now: Date;
}

/** A check: undefined when it does not apply to this host's roles and settings. */
export type Check = (
  c: DoctorContext,
) => Promise<CheckResult | CheckResult[] | undefined> | CheckResult | CheckResult[] | undefined;

export const pass = (id: string, detail: string): CheckResult => ({ id, status: "PASS", detail });
export const warn = (id: string, detail: string, fix: string): CheckResult => ({ id, status: "WARN", detail, fix });
export const fail = (id: string, detail: string, fix: string): CheckResult => ({ id, status: "FAIL", detail, fix });
