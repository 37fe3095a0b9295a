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

/** The dashboard page where a signed-in user sees and answers their account invitations (GET/POST /api/v1/profile/invitations). */
export function accountInvitationsUrl(ctx: AppContext): string {
  return `${ctx.config.publicUrl}/app/profile/invitations`;
}

/**
 * Mails an existing user that an account invites them (they accept or decline once signed in). Like
 * mailInvitation it runs after the commit, never fails the request and carries no token.
 */
export function mailMembershipInvitation(ctx: AppContext, mail: Omit<InvitationMail, 'name'>): Promise<void> | undefined {
  if (!ctx.mailer.enabled) return undefined;
  const text = [
    'Hi,',
    '',
    `${mail.inviterName} has invited you to join ${mail.accountName} on ChannelX.`,
    '',
    'You are not a member until you accept. Sign in to accept or decline the invitation here:',
    mail.url,
    '',
    `The invitation expires on ${new Date(mail.expiresAt).toUTCString()}. If you did not expect it, decline it or ignore this mail.`,
  ].join('\n');
  return ctx.mailer
    .send({ to: mail.to, subject: `Invitation to join ${mail.accountName} on ChannelX`, text })
    .catch((err: unknown) => ctx.log.warn({ err: { message: (err as Error)?.message }, to: mail.to }, 'invitation mail failed'));
}
