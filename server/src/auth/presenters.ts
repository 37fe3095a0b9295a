import { roleName } from '../users/presenter.js';
import type { PendingInvitation } from '../users/invitations-repository.js';

/** JSON of the /auth routes (sign-in and profile bodies come from src/users/presenter.ts via signedInUserJson). */

export const presentSignedOut = () => ({ success: true as const });

/** `DELETE /auth/sign_out` without a session: the reference's 404 body. */
export const presentSignOutMissing = () => ({ success: false as const, error: 'User was not found or was not logged in.' });

/** `GET /auth/invitations/:token`: who the link is for. */
export function presentInvitationPreview(inv: Pick<PendingInvitation, 'email' | 'name' | 'account_id' | 'account_name' | 'role' | 'expires_at'>) {
  return {
    email: inv.email,
    name: inv.name,
    account_id: inv.account_id,
    account_name: inv.account_name,
    role: roleName(inv.role),
    expires_at: new Date(inv.expires_at).toISOString(),
  };
}

/** `GET /auth/setup`. */
export const presentSetupStatus = (required: boolean) => ({ required });
