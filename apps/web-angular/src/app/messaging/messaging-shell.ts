import { ChangeDetectionStrategy, Component, DestroyRef, inject } from '@angular/core';
import { RouterOutlet } from '@angular/router';

import { ProviderDirectory } from '../core/provider-directory';
import { LiveMessages } from './live-messages';
import { MessagingKeys } from './messaging-keys';
import { MessagingUnlock } from './messaging-unlock';

/**
 * The messaging area (patients' and providers'): asks to unlock the messaging key first, then shows
 * the inbox or a conversation. Keeps the live delivery open while the area is shown.
 */
@Component({
  selector: 'app-messaging-shell',
  imports: [RouterOutlet, MessagingUnlock],
  template: `
    @if (live.status() === 'reconnecting') {
      <p class="notice notice--warning" role="status" data-testid="live-status">
        Live updates are interrupted. Reconnecting… (new messages will appear once connected)
      </p>
    } @else if (live.status() === 'ended') {
      <p class="notice notice--warning" role="status" data-testid="live-status">
        Live updates stopped because your session ended. Sign in again to receive new messages.
      </p>
    }
    @if (keys.unlocked()) {
      <router-outlet />
    } @else {
      <app-messaging-unlock />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MessagingShell {
  protected readonly keys = inject(MessagingKeys);
  protected readonly live = inject(LiveMessages);

  constructor() {
    inject(ProviderDirectory)
      .load()
      .catch(() => undefined);
    const stop = this.live.start();
    inject(DestroyRef).onDestroy(stop);
  }
}
