import { Injectable, inject } from '@angular/core';
import type { CategoryName } from '@custos/chain/categories';

import { ApiClient } from '../core/api-client';

// The consultation rules' constants and types come from the domain itself (one definition).
export {
  CONSULTATION_INVITEE_ROLES,
  CONSULTATION_MAX_MINUTES,
  CONSULTATION_MIN_MINUTES,
  CONSULTATION_MODES,
  type ConsultationInviteeRole,
  type ConsultationMode,
  type ConsultationRole,
  type ConsultationStatus,
  JOIN_EARLY_MINUTES,
} from '@custos/domain/consultation';
import { JOIN_EARLY_MINUTES } from '@custos/domain/consultation';
import type {
  ConsultationInviteeRole,
  ConsultationMode,
  ConsultationRole,
  ConsultationStatus,
} from '@custos/domain/consultation';

/** `GET /sessions/:id` (and each item of `GET /sessions`): a consultation as its participants see it. */
export interface SessionView {
  readonly id: string;
  /** Lower-case addresses. */
  readonly provider: string;
  readonly patient: string;
  readonly category: string;
  readonly mode: ConsultationMode;
  /** RFC 3339 (UTC). */
  readonly startsAt: string;
  readonly endsAt: string;
  readonly status: ConsultationStatus;
  /** The caller's role in it (the scheduling provider is `provider`). */
  readonly role: ConsultationRole;
  readonly participants: readonly SessionParticipant[];
  readonly recordingConsent: boolean;
  /** Once ended: the provider's address or `time`. */
  readonly endedBy: string | null;
  readonly endReason: string | null;
  /** Once recorded as a no-show: who never joined. */
  readonly missing: 'patient' | 'provider' | 'both' | null;
}

export interface SessionParticipant {
  readonly address: string;
  readonly role: ConsultationRole;
  readonly admitted: boolean;
  readonly joined: boolean;
}

/** `POST /sessions` */
export interface ScheduleSessionBody {
  readonly patient: string;
  readonly category: CategoryName;
  /** RFC 3339. */
  readonly startsAt: string;
  readonly durationMinutes: number;
  readonly mode: ConsultationMode;
}

/** `POST /sessions/:id/invitations` */
export interface InvitationBody {
  readonly participant: string;
  readonly role: ConsultationInviteeRole;
}

/** One STUN/TURN server, as `RTCIceServer`. */
export interface IceServer {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/** `POST /sessions/:id/credentials` without TRTC: a token for the built-in signalling. */
export interface WebRtcCredentials {
  readonly mode: 'webrtc';
  readonly token: string;
  readonly iceServers: readonly IceServer[];
  readonly expiresAt: string;
}

/** `POST /sessions/:id/credentials` with TRTC: a UserSig and a PrivateMapKey for one room. */
export interface TrtcCredentials {
  readonly mode: 'trtc';
  readonly sdkAppId: number;
  readonly userId: string;
  readonly userSig: string;
  readonly privateMapKey: string;
  readonly roomId: string;
  readonly expiresAt: string;
}

export type CallCredentials = WebRtcCredentials | TrtcCredentials;

/** The consultation routes (`/sessions`), typed. Errors reject with an `ApiError`. */
@Injectable({ providedIn: 'root' })
export class ConsultationApi {
  private readonly api = inject(ApiClient);

  /** Every consultation I take part in, latest start first. */
  list(): Promise<SessionView[]> {
    return this.api.getAll<SessionView>('/sessions', {}, 100, 10);
  }

  get(id: string): Promise<SessionView> {
    return this.api.get<SessionView>(`/sessions/${encodeURIComponent(id)}`);
  }

  /** A provider schedules a consultation (needs the patient's grant for the category or telehealth). */
  schedule(body: ScheduleSessionBody): Promise<{ id: string }> {
    return this.api.post<{ id: string }>('/sessions', body);
  }

  invite(id: string, body: InvitationBody): Promise<void> {
    return this.api.post(`/sessions/${encodeURIComponent(id)}/invitations`, body);
  }

  admit(id: string, participant: string): Promise<void> {
    return this.api.post(`/sessions/${encodeURIComponent(id)}/admissions`, { participant });
  }

  /** The patient gives (`true`) or withdraws (`false`) consent to recording. */
  setRecordingConsent(id: string, consent: boolean): Promise<void> {
    return this.api.post(`/sessions/${encodeURIComponent(id)}/recording-consent`, { consent });
  }

  end(id: string): Promise<void> {
    return this.api.post(`/sessions/${encodeURIComponent(id)}/end`);
  }

  /** Credentials to join the call; refused (403 `{ code, message }`) when I may not join now. */
  credentials(id: string): Promise<CallCredentials> {
    return this.api.post<CallCredentials>(`/sessions/${encodeURIComponent(id)}/credentials`);
  }
}

/** Unix milliseconds of an RFC 3339 time (NaN when unreadable). */
export const timeOf = (iso: string): number => Date.parse(iso);

/** Whether the call may still be joined (not over, not past its end); the API has the last word. */
export function isJoinable(session: SessionView, now = Date.now()): boolean {
  return (session.status === 'scheduled' || session.status === 'live') && now < timeOf(session.endsAt);
}

/** When the room opens: 15 minutes before the start (unix ms). */
export function roomOpensAt(session: Pick<SessionView, 'startsAt'>): number {
  return timeOf(session.startsAt) - JOIN_EARLY_MINUTES * 60_000;
}
