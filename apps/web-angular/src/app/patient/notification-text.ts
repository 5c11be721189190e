import { shortAddress } from '../core/address';
import { categoryLabel } from '../shared/category-label';
import { formatDateTime } from '../shared/time-left';
import type { AppNotification } from './patient-api';
import { URGENT_KINDS } from './notification-feed';

/** A notification as a sentence, and where to go about it. */
export interface NotificationText {
  readonly text: string;
  readonly urgent: boolean;
  /** A page of the app to act on it, if any. */
  readonly link: { readonly path: string; readonly label: string } | null;
}

/**
 * Puts a notification in plain words. `nameOf` turns a provider's address into their name.
 * Unknown kinds still read as a sentence.
 */
export function describeNotification(
  notification: AppNotification,
  nameOf: (address: string) => string,
): NotificationText {
  const s = notification.subject;
  const text = (key: string) => (typeof s[key] === 'string' ? (s[key] as string) : '');
  const who = (key: string) => (text(key) ? nameOf(text(key)) : 'Someone');
  const category = categoryLabel(text('category') || 'records');
  const urgent = URGENT_KINDS.has(notification.kind);
  switch (notification.kind) {
    case 'consent_requested':
      return {
        text: `${who('provider')} asked to see your ${category}.`,
        urgent,
        link: { path: '/patient', label: 'Answer the request' },
      };
    case 'emergency_access_started': {
      const until =
        typeof s['expiresAt'] === 'number' ? ` Their access ends ${formatDateTime(s['expiresAt'])}.` : '';
      return {
        text: `Emergency access: ${who('provider')} opened your records in an emergency.${until}`,
        urgent,
        link: { path: '/patient/access-log', label: 'See the access log' },
      };
    }
    case 'consent_relay_failed':
      return {
        text: 'A change you signed did not go through. Nothing changed: you can try again.',
        urgent,
        link: { path: '/patient', label: 'Go to your overview' },
      };
    case 'urgent_message':
      return { text: `${who('sender')} sent you an urgent message.`, urgent, link: null };
    case 'consent_granted':
      return {
        text: `${shortOr(text('patient'))} gave you access to their ${category}.`,
        urgent,
        link: null,
      };
    case 'consent_revoked':
      return {
        text: `${shortOr(text('patient'))} took back your access to their ${category}.`,
        urgent,
        link: null,
      };
    case 'consent_request_declined':
      return {
        text: `${shortOr(text('patient'))} declined your request for their ${category}.`,
        urgent,
        link: null,
      };
    default:
      return { text: `Update: ${notification.kind.replace(/_/g, ' ')}.`, urgent, link: null };
  }
}

function shortOr(address: string): string {
  return address ? `Patient ${shortAddress(address)}` : 'A patient';
}
