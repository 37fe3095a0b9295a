import { createContext, useContext } from 'react';
import type { Profile } from './api.js';

/** The signed-in user, the account the dashboard works in, and a way to replace the profile after a change. */
export type Session = {
  profile: Profile;
  accountId: number;
  /** The user's role in this account. */
  isAdministrator: boolean;
  setProfile: (profile: Profile) => void;
};

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the signed-in shell');
  return s;
}

export function sessionFor(profile: Profile, setProfile: (p: Profile) => void): Session {
  const account = profile.accounts.find((a) => a.id === profile.account_id) ?? profile.accounts[0];
  return { profile, accountId: account?.id ?? profile.account_id, isAdministrator: account?.role === 'administrator', setProfile };
}
