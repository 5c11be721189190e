import { ChangeDetectionStrategy, Component, effect, inject, untracked } from '@angular/core';

import { MessagingKeys } from '../messaging/messaging-keys';
import { RecordKeySharing } from './record-key-sharing';

/**
 * Shares pending record keys quietly (see `RecordKeySharing`) whenever the patient's encryption key
 * is unlocked in the patient area, and says what it did in one polite line ("Shared 3 record keys
 * with Dr Ada Lee."). Nothing is fetched while the key is locked.
 *
 * Test hook: `key-sharing-status`.
 */
@Component({
  selector: 'app-key-sharing-status',
  // One line: the live region must stay :empty (hidden) while there is nothing to say.
  template: `<p class="notice" role="status" data-testid="key-sharing-status">{{ status() }}</p>`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class KeySharingStatus {
  private readonly sharing = inject(RecordKeySharing);
  protected readonly status = this.sharing.status;

  constructor() {
    const keys = inject(MessagingKeys);
    effect(() => {
      if (keys.unlocked()) untracked(() => void this.sharing.sharePending());
    });
  }
}
