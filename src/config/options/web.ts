/** The web interface: its listener and certificate, sessions and sign-in limits, sign-up and mail. */
import { port, positive, smtpUrl } from "../values";
import { SIGNUP_FIELDS } from "../setting-types";
import { signupFields } from "./parsers";
import type { OptionTable } from "./option-def";

export const WEB_OPTIONS = {
  webPort: {
    key: "webPort",
    flag: "--web-port <port>",
    file: "WEB_PORT",
    default: () => "8443",
    parse: port,
    help: "HTTPS web interface: sign-up, credentials, instances, buckets, the admin's console (0 picks a free port)",
  },
  webCert: {
    key: "webCert",
    flag: "--web-cert <file>",
    file: "WEB_CERT",
    default: () => "",
    parse: (r) => r,
    help:
      "PEM certificate (chain) for the web interface and, with TLS on, the EC2 and S3 endpoints; " +
      "empty: one signed by the cloud CA, made at first start (data dir web/)",
  },
  webKey: {
    key: "webKey",
    unlisted: true,
    flag: "--web-key <file>",
    file: "WEB_KEY",
    default: () => "",
    parse: (r) => r,
    help: "PEM private key of --web-cert",
  },
  webUrl: {
    key: "webUrl",
    editable: true,
    live: true,
    flag: "--web-url <url>",
    file: "WEB_URL",
    default: () => "",
    parse: (r) => r.replace(/\/+$/, ""),
    help: "the web interface's address as users reach it, for links in mail (default https://<host>:<web port>)",
  },
  webSessionMinutes: {
    key: "webSessionMinutes",
    editable: true,
    live: true,
    flag: "--web-session-minutes <n>",
    file: "WEB_SESSION_MINUTES",
    default: () => "30",
    parse: positive,
    help: "a web session ends after this many minutes without a request (and after 12 hours in any case)",
  },
  webLoginAttempts: {
    key: "webLoginAttempts",
    editable: true,
    live: true,
    flag: "--web-login-attempts <n>",
    file: "WEB_LOGIN_ATTEMPTS",
    default: () => "5",
    parse: positive,
    help:
      "wrong passwords in a row before a web login pauses: 1 s after the next, then twice as long after each " +
      "(a correct password from an address the user logged in from before goes through)",
  },
  webLockoutMinutes: {
    key: "webLockoutMinutes",
    editable: true,
    live: true,
    flag: "--web-lockout-minutes <n>",
    file: "WEB_LOCKOUT_MINUTES",
    default: () => "15",
    parse: positive,
    help: "the longest pause of a web login after wrong passwords",
  },
  webAuditMaxRows: {
    key: "webAuditMaxRows",
    editable: true,
    live: true,
    flag: "--web-audit-max-rows <n>",
    file: "WEB_AUDIT_MAX_ROWS",
    default: () => "100000",
    parse: positive,
    help: "entries the audit log of logins and admin actions keeps (the oldest go first)",
  },
  webSignupFields: {
    key: "webSignupFields",
    editable: true,
    live: true,
    flag: "--web-signup-fields <list>",
    file: "WEB_SIGNUP_FIELDS",
    default: () => "telephone,affiliation,projectLeader,description",
    parse: signupFields,
    help: `extra fields of the sign-up form, a comma list of ${SIGNUP_FIELDS.join(", ")} (empty: none)`,
  },
  smtpUrl: {
    key: "smtpUrl",
    flag: "--smtp-url <url>",
    file: "SMTP_URL",
    default: () => "",
    parse: smtpUrl,
    show: (url) => {
      if (!url) return url;
      const u = new URL(url);
      if (u.password) u.password = "********"; // the page shows where mail goes, not the password
      return u.toString();
    },
    help: "where the cloud sends mail (smtp://[user:pass@]host:port or smtps://…); empty: mail stays in the admin's outbox in the web interface",
  },
  mailFrom: {
    key: "mailFrom",
    editable: true,
    live: true,
    flag: "--mail-from <address>",
    file: "MAIL_FROM",
    default: () => "euca@localhost",
    parse: (r) => r,
    help: "the From address of the cloud's mail",
  },
} satisfies OptionTable;
