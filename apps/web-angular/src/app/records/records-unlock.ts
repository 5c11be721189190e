import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EncryptionKeyUnlock } from '../messaging/encryption-key-unlock';

/**
 * Before records can be encrypted or opened: the wallet signs to unlock the encryption key, the same
 * X25519 key pair as private messages (see `EncryptionKeyUnlock`).
 *
 * Test hooks: `records-unlock-passphrase`, `records-unlock-error`, `records-unlock-status`, `records-unlock`.
 */
@Component({
  selector: 'app-records-unlock',
  imports: [EncryptionKeyUnlock],
  template: `
    <app-encryption-key-unlock
      heading="Your records are encrypted"
      action="Sign to unlock your records"
      keyName="encryption key"
      testId="records-unlock"
    >
      Records are encrypted in your browser before they are uploaded, and only the people you give access can
      open them, not even Custos. To open or add them, your account signs a short text. Signing costs nothing
      and sends nothing.
    </app-encryption-key-unlock>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordsUnlock {}
