import { ContactList } from './ContactList.js';
import { ContactDetail } from './ContactDetail.js';
import '../settings/settings.css';
import '../settings/admin.css';
import './contacts.css';

/** /app/contacts (list and search) and /app/contacts/:id (one contact). */
export function ContactsPage({ contactId }: { contactId: number | null }) {
  return contactId ? <ContactDetail key={contactId} contactId={contactId} /> : <ContactList />;
}
