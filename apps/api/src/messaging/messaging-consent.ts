import { Inject, Injectable } from '@nestjs/common';
import {
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  conversationDecider,
  type Decider,
  DomainError,
  unixSeconds,
} from '@custos/domain';
import { AuditRecorder } from '../audit/audit-recorder';
import { isConsentActive } from '../consent/consent.queries';
import type { CommandContext } from '../core/aggregate-repository';
import { consentId, type ConsentDocument, type DirectoryDocument } from '../projections/read-models';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';

/** The consent category that admits messaging between a patient and a provider. */
export const MESSAGING_CATEGORY = 'messaging';

/**
 * THE MESSAGING CONSENT RULE. A message (and a new conversation, and a provider joining one) is
 * accepted only when, at the second of the request, the patient has an active on-chain grant of
 * category `messaging` to EVERY provider currently in the conversation: granted, not revoked, not
 * expired (`expiresAt` > now), and the provider still holds the provider role (`isConsentActive` over
 * the `consents` and `directory` projections). It applies to the patient's messages and the providers'
 * alike, since each message goes to every participant. A refusal is 403 `messaging_consent_required`
 * plus a denied `AccessAudited` event (no message metadata in it), and nothing is appended to the
 * conversation. Reading the history, acknowledgments, read receipts, hiding and removing a provider
 * need no grant.
 */
@Injectable()
export class MessagingConsentGate {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly audit: AuditRecorder,
  ) {}

  /** The providers among `candidates` to whom `patient` has an active `messaging` grant at `now`. */
  async grantedProviders(patient: string, candidates: readonly string[], now: Date): Promise<Set<string>> {
    const at = unixSeconds(now);
    const granted = new Set<string>();
    for (const provider of new Set(candidates)) {
      const [consent, directory] = await Promise.all([
        this.readModels.get<ConsentDocument>('consents', consentId(patient, provider, MESSAGING_CATEGORY)),
        this.readModels.get<DirectoryDocument>('directory', provider),
      ]);
      if (isConsentActive(consent, directory, at)) granted.add(provider);
    }
    return granted;
  }

  /**
   * The conversation decider with `messagingAllowed` computed from `granted` against the very state the
   * command is decided on (the providers in the command for a start or an addition, the current care
   * team for a message), so a provider added meanwhile cannot slip past the rule: it is not in `granted`.
   */
  decider(granted: ReadonlySet<string>): Decider<ConversationCommand, ConversationState, ConversationEvent> {
    const allGranted = (providers: readonly string[]) =>
      providers.length > 0 && providers.every((p) => granted.has(p));
    return {
      ...conversationDecider,
      decide: (command, state, now) => {
        switch (command.type) {
          case 'StartConversation':
            return conversationDecider.decide(
              { ...command, messagingAllowed: allGranted(command.providers) },
              state,
              now,
            );
          case 'AddParticipant':
            return conversationDecider.decide(
              { ...command, messagingAllowed: allGranted([command.provider]) },
              state,
              now,
            );
          case 'SendMessage':
            return conversationDecider.decide(
              { ...command, messagingAllowed: allGranted(state.providers) },
              state,
              now,
            );
          default:
            return conversationDecider.decide(command, state, now);
        }
      },
    };
  }

  /**
   * Runs `work`; when the rule refused it, records the refusal in the audit trail (the act and whose
   * conversation, never what was sent) and rethrows.
   */
  async enforce<T>(
    context: CommandContext,
    gate: { patient: string; resource: string; action: string },
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DomainError && error.code === 'messaging_consent_required') {
        await this.audit.record(
          {
            actor: context.actor,
            patient: gate.patient,
            resource: gate.resource,
            action: gate.action,
            purpose: 'messaging',
            outcome: 'denied',
            reason: 'the patient has no active messaging grant to every provider of the conversation',
          },
          context,
        );
      }
      throw error;
    }
  }
}
