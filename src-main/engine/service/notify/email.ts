import { createTransport } from 'nodemailer';

import { BulwarkError } from '../../errors.ts';
import type { EmailConfig } from './settings.ts';

/**
 * Email over SMTP (nodemailer). STARTTLS is required, not merely tried, when the settings say so: a server
 * or a network that strips it fails the delivery instead of sending the password in clear. Certificates are
 * checked against the system's authorities (plus NODE_EXTRA_CA_CERTS, or `ca` from the caller).
 */

export interface EmailMessage {
  subject: string;
  text: string;
}

export interface EmailTransportOptions {
  /** extra trusted certificate authorities (PEM), e.g. an office mail server's own; tests pass theirs */
  ca?: string;
  /** each step of the conversation (connect, greeting, every reply) must answer within this (default 20 s) */
  timeoutMs?: number;
}

/** Sends one message to every configured recipient. Throws a BulwarkError in plain words. */
export async function sendEmail(
  config: EmailConfig,
  password: string | undefined,
  message: EmailMessage,
  opts: EmailTransportOptions = {},
): Promise<{ to: string }> {
  const problem = emailConfigProblem(config);
  if (problem) throw new BulwarkError('INVALID_ARGUMENT', problem);
  const timeout = opts.timeoutMs ?? 20_000;
  const transport = createTransport({
    host: config.host,
    port: config.port,
    secure: config.security === 'tls',
    requireTLS: config.security === 'starttls',
    ignoreTLS: config.security === 'none',
    ...(config.user !== '' ? { auth: { user: config.user, pass: password ?? '' } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    tls: { minVersion: 'TLSv1.2', ...(opts.ca ? { ca: opts.ca } : {}) },
  });
  const to = config.to.join(', ');
  try {
    await transport.sendMail({
      from: { name: 'Bulwark backups', address: fromAddress(config) },
      to: config.to,
      subject: message.subject,
      text: message.text,
    });
  } catch (e) {
    throw emailError(e, config);
  } finally {
    transport.close();
  }
  return { to };
}

function fromAddress(config: EmailConfig): string {
  if (config.from !== '') return config.from;
  return config.user.includes('@') ? config.user : `bulwark@${config.host}`;
}

/** What keeps these settings from sending anything, in plain words (undefined: nothing). */
export function emailConfigProblem(config: EmailConfig): string | undefined {
  if (config.host === '') return 'Give the name of the mail server (for example smtp.example.com).';
  if (config.to.length === 0) return 'Give at least one address to send the alerts to.';
  return undefined;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/**
 * A nodemailer failure in words for the person who set it up, with what to check (the server's own answer
 * stays in `cause`, for whoever supports the office).
 */
export function emailError(e: unknown, config: EmailConfig): BulwarkError {
  const f = (typeof e === 'object' && e !== null ? e : {}) as SmtpFailure;
  const server = `the mail server ${config.host} (port ${config.port})`;
  const tlsProblem = /certificate|self[- ]signed|unable to verify|altnames|CERT_/i.test(f.message ?? '');
  const make = (code: 'NETWORK' | 'PERMISSION' | 'IO', message: string, hint: string): BulwarkError =>
    new BulwarkError(code, message, { cause: e, hint });
  if (tlsProblem)
    return make(
      'PERMISSION',
      `The security certificate of ${server} could not be verified, so nothing was sent.`,
      'Check the name of the mail server: it must be the name its certificate is made out to. If the office runs ' +
        'its own mail server, ask whoever manages it.',
    );
  switch (f.code) {
    case 'EAUTH':
    case 'ENOAUTH':
      return make(
        'PERMISSION',
        `${capitalize(server)} did not accept the user name and password.`,
        'Check the user name and the password. Some providers (Gmail, Microsoft 365) need an app password ' +
          'made for this purpose in the account’s security settings.',
      );
    case 'EDNS':
      return make(
        'NETWORK',
        `There is no mail server called ${config.host}.`,
        'Check the spelling of the mail server’s name, and that this computer is connected to the internet.',
      );
    case 'ETIMEDOUT':
    case 'ECONNECTION':
    case 'ESOCKET':
      return make(
        'NETWORK',
        `${capitalize(server)} could not be reached.`,
        'Check the name of the mail server, the port (usually 587 with STARTTLS, 465 with TLS) and that this ' +
          'computer is connected to the network.',
      );
    case 'ETLS':
    case 'EREQUIRETLS':
      return make(
        'NETWORK',
        `${capitalize(server)} did not offer a secure connection, so nothing was sent.`,
        'Check the security setting and the port: STARTTLS usually uses port 587, TLS port 465.',
      );
    case 'EENVELOPE':
      return make(
        'IO',
        `${capitalize(server)} refused the sender or a recipient address.`,
        'Check the addresses. Many servers only send from the address of the account that signs in.',
      );
    default:
      return make(
        'IO',
        `${capitalize(server)} did not take the message.`,
        'Check the mail settings; whoever manages the mail account can tell what the server’s answer means.',
      );
  }
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
