import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { CallCredentialsService } from './call-credentials.service';
import { CallTokens } from './call-tokens';
import { ConsultationClosingJob } from './consultation-closing.job';
import { CONSULTATION_COMMAND_HANDLERS } from './consultation.commands';
import { CONSULTATION_QUERY_HANDLERS } from './consultation.queries';
import { SignallingService } from './signalling.service';
import { TelehealthConsent } from './telehealth-consent';
import { TelehealthController } from './telehealth.controller';
import { TRTC_SIGNER, TrtcSigner } from './trtc-signer';

/**
 * Consent-gated telehealth: consultations (`/sessions`), call credentials (Tencent TRTC when
 * configured, else the built-in WebRTC signalling at `/sessions/signal`), and the closing job that
 * ends consultations by time and records no-shows. The `consultations` projection is in the
 * projections list (projections/read-models.ts).
 */
@Module({
  imports: [AuditModule],
  controllers: [TelehealthController],
  providers: [
    TelehealthConsent,
    {
      provide: CallTokens,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new CallTokens(config.AUTH_TOKEN_SECRET),
    },
    {
      // Only with TRTC configured: the built-in WebRTC mode signs a token with one HMAC on the event loop.
      provide: TRTC_SIGNER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => (config.trtc ? new TrtcSigner(config.trtc) : null),
    },
    CallCredentialsService,
    SignallingService,
    ConsultationClosingJob,
    ...CONSULTATION_COMMAND_HANDLERS,
    ...CONSULTATION_QUERY_HANDLERS,
  ],
  exports: [SignallingService, ConsultationClosingJob],
})
export class TelehealthModule {}
