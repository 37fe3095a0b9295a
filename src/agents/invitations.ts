import type { AppContext } from '../context.js';

/** The dashboard page that accepts an invitation (it calls GET/POST /auth/invitations/:token). */
export function invitationUrl(ctx: AppContext, token: string): string {
  return `${ctx.config.publicUrl}/app/accept-invitation?token=${encodeURIComponent(token)}`;
}

export type InvitationMail = {
  to: string;
  name: string;
  accountName: string;
  inviterName: string;
  url: string;
  expiresAt: number;
};

/**
 * Mails the invitation when SMTP is configured. It runs after the commit and never fails the
 * request: the administrator has the link in the response either way. The token is never logged.
 */
export function mailInvitation(ctx: AppContext, mail: InvitationMail): Promise<void> | undefined {
  if (!ctx.mailer.enabled) return undefined;
  const text = [
    `Hi ${mail.name},`,
    '',
    `${mail.inviterName} has invited you to join ${mail.accountName} on ChannelX.`,
    '',
    'Set your password and sign in here:',
    mail.url,
    '',
    `This link can be used once and expires on ${new Date(mail.expiresAt).toUTCString()}.`,
  ].join('\n');
  return ctx.mailer
    .send({ to: mail.to, subject: `You have been invited to ${mail.accountName} on ChannelX`, text })
    .catch((err: unknown) => ctx.log.warn({ err: { message: (err as Error)?.message }, to: mail.to }, 'invitation mail failed'));
}
