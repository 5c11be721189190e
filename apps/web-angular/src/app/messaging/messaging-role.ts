import { InjectionToken } from '@angular/core';

/**
 * Which side of messaging a mounted messaging area serves: `/patient/messages` (`patient`) or
 * `/provider/messages` (`provider`). Set by `messagingRoutes(role)`.
 */
export type MessagingRole = 'patient' | 'provider';

export const MESSAGING_ROLE = new InjectionToken<MessagingRole>('MESSAGING_ROLE', {
  providedIn: 'root',
  factory: () => 'patient',
});
