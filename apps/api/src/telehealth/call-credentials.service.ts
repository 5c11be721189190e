import { Inject, Injectable } from '@nestjs/common';
import {
  type AccessAuditedData,
  type ConsultationRole,
  forbidden,
  mayJoin,
  notFound,
  unixSeconds,
} from '@custos/domain';
import { AuditRecorder } from '../audit/audit-recorder';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig, IceServer } from '../config/config.schema';
import type { CommandContext } from '../core/aggregate-repository';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';
import { CallTokens } from './call-tokens';
import { type ConsultationDocument, stateOf } from './consultation.projection';
import { TelehealthConsent } from './telehealth-consent';
import { TRTC_SIGNER, type TrtcSigner } from './trtc-signer';
import { trtcPrivileges, trtcRoomId, trtcUserId } from './trtc';

/** Credentials outlive the scheduled end by this much, so a call can wrap up. */
export const CREDENTIALS_GRACE_SECONDS = 2 * 60;
/** And never live longer than this: a long call asks again, and the consent is checked again. */
export const CREDENTIALS_MAX_SECONDS = 30 * 60;

export interface TrtcCredentials {
  mode: 'trtc';
  sdkAppId: number;
  userId: string;
  userSig: string;
  privateMapKey: string;
  roomId: string;
  /** RFC 3339: when the UserSig and the PrivateMapKey expire. */
  expiresAt: string;
}

export interface WebRtcCredentials {
  mode: 'webrtc';
  /** Offered as the WebSocket subprotocol `custos-token.<token>` at `/sessions/signal`. */
  token: string;
  iceServers: IceServer[];
  expiresAt: string;
}

export type CallCredentials = TrtcCredentials | WebRtcCredentials;

const ACTION = 'issue_credentials';
const PURPOSE = 'telehealth consultation';

/**
 * The gate in front of a call: credentials only for a participant the patient admitted, from 15
 * minutes before the start until the end, and for the consultation's provider only while the patient's
 * grant (for the category or for telehealth) is active at this second. Every issue and every refusal
 * is an audit event, appended before the answer; the reasons are plain words without health data.
 */
@Injectable()
export class CallCredentialsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly consent: TelehealthConsent,
    private readonly tokens: CallTokens,
    private readonly audit: AuditRecorder,
    @Inject(TRTC_SIGNER) private readonly trtcSigner: TrtcSigner | null,
  ) {}

  /**
   * `callerRoles`: the caller's roles as the RolesGuard read them for this request, so the consent
   * check need not read the directory again; read here when not given.
   */
  async issue(
    sessionId: string,
    context: CommandContext,
    callerRoles?: readonly string[],
  ): Promise<CallCredentials> {
    const { actor, now } = context;
    const doc = await this.readModels.get<ConsultationDocument>('consultations', sessionId);
    const audit = (outcome: AccessAuditedData['outcome'], reason: string) =>
      this.audit.record(
        {
          actor,
          patient: doc?.patient ?? null,
          resource: `session:${sessionId}/credentials`,
          action: ACTION,
          purpose: PURPOSE,
          outcome,
          reason,
        },
        context,
      );

    const member = doc?.participants[actor];
    if (!doc || !member) {
      // Whether the consultation exists is not revealed to outsiders, but the attempt is on record.
      await audit('denied', 'not a participant of this consultation');
      throw notFound('session_not_found', `there is no consultation ${sessionId} that you take part in`);
    }
    const check = mayJoin(stateOf(doc), actor, now);
    if (!check.ok) {
      await audit('denied', check.reason);
      throw forbidden(check.code, check.reason);
    }
    if (
      actor === doc.provider &&
      !(await this.consent.isActive(doc.patient, actor, doc.category, now, callerRoles))
    ) {
      const reason =
        "the patient's consent for this consultation is not active (no grant for its category or for telehealth, or it expired or was revoked)";
      await audit('denied', reason);
      throw forbidden('no_consent', reason);
    }

    const nowSeconds = unixSeconds(now);
    const expiresAt = Math.min(doc.endsAt + CREDENTIALS_GRACE_SECONDS, nowSeconds + CREDENTIALS_MAX_SECONDS);
    const credentials = await this.credentials(doc, actor, member.role, nowSeconds, expiresAt);
    await audit(
      'allowed',
      `${credentials.mode === 'trtc' ? 'TRTC' : 'WebRTC'} credentials issued to the ${member.role}, valid until ${credentials.expiresAt}`,
    );
    return credentials;
  }

  private async credentials(
    doc: ConsultationDocument,
    participant: string,
    role: ConsultationRole,
    nowSeconds: number,
    expiresAt: number,
  ): Promise<CallCredentials> {
    const expiry = new Date(expiresAt * 1000).toISOString();
    const trtc = this.config.trtc;
    if (trtc && this.trtcSigner) {
      const userId = trtcUserId(participant);
      const roomId = trtcRoomId(doc.id);
      const opensRoom = participant === doc.patient || participant === doc.provider;
      const { userSig, privateMapKey } = await this.trtcSigner.sign({
        userId,
        roomId,
        privileges: trtcPrivileges(role, doc.mode, opensRoom),
        lifetimeSeconds: expiresAt - nowSeconds,
      });
      return {
        mode: 'trtc',
        sdkAppId: trtc.sdkAppId,
        userId,
        userSig,
        privateMapKey,
        roomId,
        expiresAt: expiry,
      };
    }
    return {
      mode: 'webrtc',
      token: this.tokens.issue({ sid: doc.id, sub: participant, role, exp: expiresAt }),
      iceServers: this.config.ICE_SERVERS,
      expiresAt: expiry,
    };
  }
}
