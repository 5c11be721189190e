import { shortAddress } from '../core/address';
import type { ProviderDirectory } from '../core/provider-directory';
import type { ConversationView } from './messaging-api';

/**
 * How a participant is named to the signed-in account `me`: "You"; a provider by the directory's name
 * (or "Provider 0x7099…79c8" without one); the patient as "Patient 0x9965…a4dc" (patients have no
 * public profile).
 */
export function participantName(
  address: string,
  me: string,
  conversation: Pick<ConversationView, 'patient'> | null,
  directory: Pick<ProviderDirectory, 'profile'>,
): string {
  const account = address.toLowerCase();
  if (account === me.toLowerCase()) return 'You';
  if (conversation && account === conversation.patient.toLowerCase()) {
    return `Patient ${shortAddress(account)}`;
  }
  return directory.profile(account)?.name || `Provider ${shortAddress(account)}`;
}

/** Who the conversation is with, seen by `me`: the other participants, named. */
export function counterpartNames(
  conversation: ConversationView,
  me: string,
  directory: Pick<ProviderDirectory, 'profile'>,
): string {
  const others = [conversation.patient, ...conversation.providers].filter(
    (a) => a.toLowerCase() !== me.toLowerCase(),
  );
  if (others.length === 0) return 'Your care team';
  return others.map((a) => participantName(a, me, conversation, directory)).join(', ');
}
