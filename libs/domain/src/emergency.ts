import { type Decider, invalid, unixSeconds } from './decider';
import type { EventDraft } from './events';

/**
 * Emergency ("break-glass") access, one stream per patient (`emergency-<patient>`). The window itself
 * is a chain fact: emergency staff call `emergencyAccess(patient, reasonHash)` with their own wallet and
 * the mirror records it. The reason text never goes on-chain: staff give it to the API, which keeps it
 * here next to its hash so compliance officers can read why, and the chain proves when.
 */

export const emergencyStream = (patient: string): string => `emergency-${patient}`;

export const REASON_MIN_LENGTH = 10;
export const REASON_MAX_LENGTH = 2000;

export type EmergencyEvent =
  | EventDraft<
      'EmergencyReasonRecorded',
      { patient: string; provider: string; reasonHash: string; reason: string }
    >
  | EventDraft<
      'EmergencyAccessStarted',
      { patient: string; provider: string; reasonHash: string; expiresAt: number }
    >
  | EventDraft<'EmergencyAccessEnded', { patient: string; provider: string; endedBy: string }>;

export type EmergencyCommand =
  | {
      type: 'RecordEmergencyReason';
      patient: string;
      provider: string;
      reason: string;
      /** keccak256 of the UTF-8 reason, computed by the caller (the domain has no hashing). */
      reasonHash: string;
    }
  | {
      type: 'RecordEmergencyStarted';
      patient: string;
      provider: string;
      reasonHash: string;
      expiresAt: number;
    }
  | { type: 'RecordEmergencyEnded'; patient: string; provider: string; endedBy: string };

export interface EmergencyWindow {
  provider: string;
  reasonHash: string;
  /** Unix seconds. */
  expiresAt: number;
  /** The reason text, once the staff member has given it. */
  reason: string | null;
}

export interface EmergencyState {
  patient: string | null;
  /** Keyed by provider; ended windows are removed, lapsed ones stay until replaced. */
  windows: Readonly<Record<string, EmergencyWindow>>;
  /** Reasons given, by hash, waiting for or matched with a window. */
  reasons: Readonly<Record<string, string>>;
}

export function isWindowOpen(window: Pick<EmergencyWindow, 'expiresAt'>, now: Date): boolean {
  return window.expiresAt > unixSeconds(now);
}

const initialState: EmergencyState = { patient: null, windows: {}, reasons: {} };

function decide(command: EmergencyCommand, state: EmergencyState): EmergencyEvent[] {
  switch (command.type) {
    case 'RecordEmergencyReason': {
      const reason = command.reason.trim();
      if (reason.length < REASON_MIN_LENGTH || reason.length > REASON_MAX_LENGTH) {
        throw invalid(
          'invalid_reason',
          `an emergency reason must be ${REASON_MIN_LENGTH} to ${REASON_MAX_LENGTH} characters`,
        );
      }
      if (state.reasons[command.reasonHash] !== undefined) return []; // the same reason given twice
      return [
        {
          type: 'EmergencyReasonRecorded',
          version: 1,
          data: {
            patient: command.patient,
            provider: command.provider,
            reasonHash: command.reasonHash,
            reason,
          },
        },
      ];
    }
    case 'RecordEmergencyStarted':
      return [
        {
          type: 'EmergencyAccessStarted',
          version: 1,
          data: {
            patient: command.patient,
            provider: command.provider,
            reasonHash: command.reasonHash,
            expiresAt: command.expiresAt,
          },
        },
      ];
    case 'RecordEmergencyEnded':
      return [
        {
          type: 'EmergencyAccessEnded',
          version: 1,
          data: { patient: command.patient, provider: command.provider, endedBy: command.endedBy },
        },
      ];
  }
}

function evolve(state: EmergencyState, event: EmergencyEvent): EmergencyState {
  switch (event.type) {
    case 'EmergencyReasonRecorded':
      return {
        ...state,
        patient: event.data.patient,
        reasons: { ...state.reasons, [event.data.reasonHash]: event.data.reason },
      };
    case 'EmergencyAccessStarted': {
      const { patient, provider, reasonHash, expiresAt } = event.data;
      return {
        ...state,
        patient,
        windows: {
          ...state.windows,
          [provider]: { provider, reasonHash, expiresAt, reason: state.reasons[reasonHash] ?? null },
        },
      };
    }
    case 'EmergencyAccessEnded': {
      const windows = { ...state.windows };
      delete windows[event.data.provider];
      return { ...state, patient: event.data.patient, windows };
    }
  }
}

export const emergencyDecider: Decider<EmergencyCommand, EmergencyState, EmergencyEvent> = {
  initialState,
  decide: (command, state) => decide(command, state),
  evolve,
};
