/** Contacts. Placeholder until built. */
export function ContactsPage({ contactId }: { contactId: number | null }) {
  return <h1>Contacts {contactId ?? ''}</h1>;
}
