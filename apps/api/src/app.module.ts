import { type DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AuditAccessDecisionRecorder } from './audit/audit-recorder';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ChainHealthModule } from './chain/chain-health.module';
import { ChainModule } from './chain/chain.module';
import { AnchoringModule } from './anchoring/anchoring.module';
import { ChainGatewayModule } from './chain-gateway/chain-gateway.module';
import { ComplianceModule } from './compliance/compliance.module';
import { WebSocketModule } from './realtime/websocket-endpoints';
import { ConsentModule } from './consent/consent.module';
import { CoreModule } from './core/core.module';
import { DirectoryModule } from './directory/directory.module';
import { ReadModelRoleDirectory } from './directory/read-model-role-directory';
import { EmergencyModule } from './emergency/emergency.module';
import { NotificationsModule } from './notifications/notifications.controller';
import { EventStoreModule } from './event-store/event-store.module';
import { MetricsModule } from './metrics/metrics.module';
import { MessagingModule } from './messaging/messaging.module';
import { ReadModelsModule } from './read-models/read-models.module';
import { RelayModule } from './relay/relay.module';
import { ConfigModule } from './config/config.module';
import type { AppConfig } from './config/config.schema';
import { HealthModule } from './health/health.module';
import { SecurityModule } from './security/security.module';
import { TelehealthModule } from './telehealth/telehealth.module';
import { RecordsModule } from './records/records.module';
import { WebAppModule } from './web/web-app.module';

/**
 * The root module: one module per capability. Built from an already
 * validated configuration (see loadConfig), so the process fails before
 * Nest starts when a setting is wrong.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        // CommandBus, QueryBus and EventBus for the capability modules' handlers.
        CqrsModule.forRoot(),
        SecurityModule,
        // After SecurityModule: its RolesGuard runs after DenyByDefaultGuard.
        AuthModule.forRoot({
          imports: [AuditModule],
          roleDirectory: ReadModelRoleDirectory,
          accessDecisionRecorder: AuditAccessDecisionRecorder,
        }),
        HealthModule,
        ChainHealthModule,
        MetricsModule,
        EventStoreModule,
        ReadModelsModule,
        CoreModule,
        // WebSocket endpoints on the HTTP port (signalling, message delivery).
        WebSocketModule,
        // Contract logs into the event store; off without a contract address.
        ChainModule,
        ConsentModule,
        RelayModule,
        // Signing context, chain status and a narrow JSON-RPC for the web app's wallets.
        ChainGatewayModule,
        // Consent drift between the projection and the chain (GET /compliance/drift, periodic check).
        ComplianceModule,
        // The audit log's Merkle roots on-chain (periodic anchor, proofs, verification).
        AnchoringModule,
        AuditModule,
        DirectoryModule,
        EmergencyModule,
        NotificationsModule,
        // End-to-end encrypted messaging: keys, conversations, live delivery at /messages/live.
        MessagingModule,
        // Consent-gated consultations: /sessions, call credentials, WebRTC signalling, no-shows.
        TelehealthModule,
        // End-to-end encrypted records: ciphertext in the blob store, consent-gated key release.
        RecordsModule,
        WebAppModule,
      ],
    };
  }
}
