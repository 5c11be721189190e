import { CATEGORY_NAMES, type CategoryName } from '@custos/chain';
import {
  CONSULTATION_INVITEE_ROLES,
  CONSULTATION_MAX_MINUTES,
  CONSULTATION_MIN_MINUTES,
  CONSULTATION_MODES,
  type ConsultationInviteeRole,
  type ConsultationMode,
} from '@custos/domain';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ADDRESS_PATTERN, lowerCase } from '../core/address';
import { IsRfc3339 } from '../core/rfc3339';

const address = (field: string) =>
  Matches(ADDRESS_PATTERN, { message: `${field} must be a 0x-prefixed 20-byte hex address` });

/** `POST /sessions`: a provider schedules a consultation with a patient. */
export class ScheduleSessionBody {
  @address('patient')
  @Transform(lowerCase)
  patient!: string;

  /** What the consultation is about; the patient's grant for it (or for `telehealth`) must be active. */
  @IsIn(CATEGORY_NAMES, { message: `category must be one of: ${CATEGORY_NAMES.join(', ')}` })
  category!: CategoryName;

  /** RFC 3339, e.g. `2026-03-01T12:00:00Z`. */
  @IsRfc3339()
  startsAt!: string;

  @IsInt()
  @Min(CONSULTATION_MIN_MINUTES)
  @Max(CONSULTATION_MAX_MINUTES)
  durationMinutes!: number;

  /** `video` (default) or `audio` (no camera, no screen sharing). */
  @IsOptional()
  @IsIn(CONSULTATION_MODES, { message: `mode must be one of: ${CONSULTATION_MODES.join(', ')}` })
  mode?: ConsultationMode;
}

/** `POST /sessions/:id/invitations`: the provider invites someone; the patient admits them later. */
export class InvitationBody {
  @address('participant')
  @Transform(lowerCase)
  participant!: string;

  @IsIn(CONSULTATION_INVITEE_ROLES, {
    message: `role must be one of: ${CONSULTATION_INVITEE_ROLES.join(', ')}`,
  })
  role!: ConsultationInviteeRole;
}

/** `POST /sessions/:id/admissions`: the patient lets an invitee in. */
export class AdmissionBody {
  @address('participant')
  @Transform(lowerCase)
  participant!: string;
}

/** `POST /sessions/:id/recording-consent`: the patient gives (true) or withdraws (false) consent. */
export class RecordingConsentBody {
  @IsBoolean()
  consent!: boolean;
}
