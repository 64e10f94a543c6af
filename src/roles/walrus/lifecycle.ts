/**
 * Bucket lifecycle: the rules S3 accepts (Expiration by days or date, expired delete
 * markers, NoncurrentVersionExpiration, AbortIncompleteMultipartUpload; filters by
 * prefix, tags and size) and the sweeper that applies them. Each round examines a
 * bounded number of rows and remembers where it stopped in walrus.db, so a restart
 * resumes and no round holds the process for long. "A day" is a setting, so tests
 * need not wait one.
 */
import type { Logger } from "pino";
import { StorageError } from "../../common/errors";
import { every } from "../../common/periodic";
import type { BucketRecord, LifecycleFilter, LifecycleRule, VersionRecord } from "./records";
import type { WalrusContext } from "./service-context";

const MAX_RULES = 1000;
const invalid = (m: string) => new StorageError("InvalidArgument", m);

export function checkLifecycleRules(rules: readonly LifecycleRule[]): LifecycleRule[] {
  if (rules.length === 0)
    throw new StorageError(
      "MalformedXML",
      "The XML you provided was not well-formed or did not validate against our published schema (no Rule)",
    );
  if (rules.length > MAX_RULES) throw invalid(`A lifecycle configuration can have at most ${MAX_RULES} rules`);
  const ids = new Set<string>();
  for (const r of rules) {
    if (r.id !== undefined) {
      if (r.id.length > 255) throw invalid("ID length should not exceed allowed limit of 255");
      if (ids.has(r.id)) throw invalid("Rule ID must be unique. Found same ID for more than one rule");
      ids.add(r.id);
    }
    if (!r.expiration && !r.noncurrentVersionExpiration && !r.abortIncompleteMultipartUpload) {
      throw new StorageError("InvalidRequest", "At least one action needs to be specified in a rule");
    }
    const e = r.expiration;
    if (e) {
      const given = [e.days !== undefined, e.date !== undefined, e.expiredObjectDeleteMarker !== undefined].filter(
        Boolean,
      ).length;
      if (given !== 1)
        throw new StorageError(
          "MalformedXML",
          "Expiration takes exactly one of Days, Date and ExpiredObjectDeleteMarker",
        );
      if (e.days !== undefined && !(Number.isInteger(e.days) && e.days > 0))
        throw invalid("'Days' for Expiration action must be a positive integer");
      if (e.date !== undefined) {
        const d = new Date(e.date);
        if (Number.isNaN(d.getTime()) || d.getTime() % 86_400_000 !== 0)
          throw invalid("'Date' must be at midnight GMT");
      }
      if (e.expiredObjectDeleteMarker !== undefined && r.filter.tags?.length) {
        throw invalid("ExpiredObjectDeleteMarker cannot be specified with object tags");
      }
    }
    const n = r.noncurrentVersionExpiration;
    if (n && !(Number.isInteger(n.noncurrentDays) && n.noncurrentDays > 0))
      throw invalid("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
    const a = r.abortIncompleteMultipartUpload;
    if (a) {
      if (!(Number.isInteger(a.daysAfterInitiation) && a.daysAfterInitiation > 0))
        throw invalid("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
      if (r.filter.tags?.length) throw invalid("AbortIncompleteMultipartUpload cannot be specified with Tags");
    }
    const f = r.filter;
    if (f.sizeGreaterThan !== undefined && f.sizeLessThan !== undefined && f.sizeGreaterThan >= f.sizeLessThan) {
      throw invalid("ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
    }
  }
  return [...rules];
}

function filterMatches(f: LifecycleFilter, v: VersionRecord): boolean {
  if (f.prefix && !v.key.startsWith(f.prefix)) return false;
  if (f.sizeGreaterThan !== undefined && !(v.size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(v.size < f.sizeLessThan)) return false;
  return (f.tags ?? []).every((t) => v.tags.some((x) => x.key === t.key && x.value === t.value));
}

export interface SweeperOptions {
  /** Length of "a day" in milliseconds (86,400,000; shorter in tests). */
  dayMs: number;
  /** Rows examined per round, over all buckets. */
  budget: number;
}

export interface SweepReport {
  examined: number;
  expired: number;
  removedVersions: number;
  aborted: number;
}

/** The lifecycle sweeper over the Walrus repository. */
export function lifecycleSweeper(c: WalrusContext, o: SweeperOptions) {
  /** S3 counts days from the object's time and rounds up to the next day boundary (midnight UTC). */
  const after = (from: Date, days: number) => Math.ceil((from.getTime() + days * o.dayMs) / o.dayMs) * o.dayMs;

  function sweepVersion(b: BucketRecord, v: VersionRecord, now: number, report: SweepReport): void {
    for (const r of b.lifecycle ?? []) {
      if (r.status !== "Enabled" || !filterMatches(r.filter, v)) continue;
      const e = r.expiration;
      if (v.isLatest && !v.deleteMarker && e && (e.days !== undefined || e.date !== undefined)) {
        const due = e.days !== undefined ? after(v.lastModified, e.days) : new Date(e.date!).getTime();
        if (now >= due) {
          c.release(c.repo.deleteCurrent(v.bucket, v.key, b.versioning, b.owner, new Date(now)).freed);
          report.expired++;
          return;
        }
      }
      if (
        v.isLatest &&
        v.deleteMarker &&
        e &&
        (e.expiredObjectDeleteMarker || e.days !== undefined) &&
        !c.repo.hasOtherVersions(v.bucket, v.key, v.id)
      ) {
        c.release(c.repo.deleteVersion(v));
        report.removedVersions++;
        return;
      }
      const n = r.noncurrentVersionExpiration;
      if (!v.isLatest && n) {
        const since = c.repo.supersededAt(v);
        if (since && now >= after(since, n.noncurrentDays)) {
          c.release(c.repo.deleteVersion(v));
          report.removedVersions++;
          return;
        }
      }
    }
  }

  return {
    /** One bounded round over every bucket that has rules. */
    round(): SweepReport {
      const report: SweepReport = { examined: 0, expired: 0, removedVersions: 0, aborted: 0 };
      const now = c.clock.now().getTime();
      for (const b of c.repo.bucketsWithLifecycle()) {
        const rules = b.lifecycle ?? [];
        for (const r of rules) {
          const a = r.abortIncompleteMultipartUpload;
          if (r.status !== "Enabled" || !a) continue;
          // Initiated before (now - days), counted the way objects are: rounded to a day boundary.
          const cutoff = new Date(Math.floor((now - a.daysAfterInitiation * o.dayMs) / o.dayMs) * o.dayMs);
          for (const u of c.repo.uploadsInitiatedBefore(b.name, cutoff, o.budget)) {
            if (r.filter.prefix && !u.key.startsWith(r.filter.prefix)) continue;
            c.release(c.repo.deleteUpload(u.id));
            report.aborted++;
          }
        }
        const left = o.budget - report.examined;
        if (left <= 0) break;
        const rows = c.repo.versionsAfter(b.name, c.repo.lifecycleCursor(b.name), left);
        for (const v of rows) sweepVersion(b, v, now, report);
        report.examined += rows.length;
        // A bucket scanned to its end starts again from its first row next round.
        c.repo.setLifecycleCursor(b.name, rows.length < left ? 0 : rows[rows.length - 1]!.id);
      }
      return report;
    },
  };
}

/** Applies the buckets' lifecycle rules every `ms` in the background; returns the stop (which waits for a round under way). */
export function startLifecycleRounds(sweeper: { round(): SweepReport }, ms: number, log: Logger): () => Promise<void> {
  return every(
    ms,
    async () => {
      const r = sweeper.round();
      if (r.expired || r.removedVersions || r.aborted) log.info({ lifecycle: r }, "walrus: lifecycle rules applied");
    },
    (e) => log.error({ err: e }, "walrus: lifecycle round failed"),
  );
}
