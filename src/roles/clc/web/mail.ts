/**
 * The cloud's mail: every message goes to the outbox table (the admin reads it in the
 * web interface); with SMTP_URL it is also sent through nodemailer (well kept, the
 * usual Node SMTP client) and marked sent. Log lines name the recipient and subject,
 * never the body (it can hold a confirmation or reset link).
 */
import { desc, eq } from "drizzle-orm";
import nodemailer from "nodemailer";
import type { Logger } from "pino";
import type { Clock } from "../../../common/clock";
import type { ClcDatabase } from "../database";
import { outbox } from "../schema";

export interface MailMessage {
  to: string;
  subject: string;
  body: string;
}

export interface OutboxEntry extends MailMessage {
  id: number;
  at: Date;
  sent: boolean;
}

export function createMailer(o: { db: ClcDatabase; clock: Clock; log: Logger; smtpUrl: string; from: string }) {
  const { db } = o.db;
  const transport = o.smtpUrl ? nodemailer.createTransport(o.smtpUrl) : undefined;
  return {
    /** Keeps the message and, with SMTP, sends it; a send that fails is logged and stays unsent in the outbox. */
    async send(m: MailMessage): Promise<void> {
      const row = db
        .insert(outbox)
        .values({ at: o.clock.now(), recipient: m.to, subject: m.subject, body: m.body, sent: false })
        .returning({ id: outbox.id })
        .get();
      if (!transport) {
        o.log.info(
          { to: m.to, subject: m.subject, outbox: row.id },
          "mail: no SMTP_URL; kept in the outbox (web interface, Admin → Outbox)",
        );
        return;
      }
      try {
        await transport.sendMail({ from: o.from, to: m.to, subject: m.subject, text: m.body });
        db.update(outbox).set({ sent: true }).where(eq(outbox.id, row.id)).run();
        o.log.info({ to: m.to, subject: m.subject }, "mail: sent");
      } catch (e) {
        o.log.warn(
          { to: m.to, subject: m.subject, err: (e as Error).message },
          "mail: sending failed; kept in the outbox",
        );
      }
    },
    outbox(limit = 100): OutboxEntry[] {
      return db
        .select()
        .from(outbox)
        .orderBy(desc(outbox.id))
        .limit(limit)
        .all()
        .map((r) => ({ id: r.id, at: r.at, to: r.recipient, subject: r.subject, body: r.body, sent: r.sent }));
    },
    close(): void {
      transport?.close();
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
