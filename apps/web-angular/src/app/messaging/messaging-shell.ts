import { ChangeDetectionStrategy, Component, DestroyRef, inject } from '@angular/core';
import { RouterOutlet } from '@angular/router';

import { ProviderDirectory } from '../core/provider-directory';
import { EncryptionKeyUnlock } from './encryption-key-unlock';
import { LiveMessages } from './live-messages';
import { MessagingKeys } from './messaging-keys';

/**
 * The messaging area (patients' and providers'): asks to unlock the messaging key first, then shows
 * the inbox or a conversation. Keeps the live delivery open while the area is shown.
 */
@Component({
  selector: 'app-messaging-shell',
  imports: [RouterOutlet, EncryptionKeyUnlock],
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
      <h1>Messages</h1>
      <app-encryption-key-unlock
        heading="Your messages are private"
        action="Sign to unlock your private messages"
        keyName="messaging key"
        testId="unlock"
        buttonTestId="unlock-messages"
      >
        Messages are locked in your browser before they are sent, and only the people in the conversation can
        unlock them, not even Custos. To open them, your account signs a short text. Signing costs nothing and
        sends nothing.
      </app-encryption-key-unlock>
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
