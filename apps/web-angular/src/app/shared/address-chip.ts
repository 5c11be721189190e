import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  inject,
  input,
  signal,
} from '@angular/core';

import { shortAddress } from '../core/address';

/**
 * An account address, shortened (`0x7099…79C8`, full address on hover) with a button that copies the
 * full address.
 *
 * `<app-address-chip [address]="grant.provider" />`
 */
@Component({
  selector: 'app-address-chip',
  template: `
    <span class="address-chip" [attr.data-testid]="testId()" [attr.data-address]="address()">
      <span class="address-chip__text" [title]="address()">{{ short() }}</span>
      <button
        type="button"
        class="address-chip__copy"
        [attr.aria-label]="'Copy the full address ' + short()"
        [attr.data-testid]="testId() + '-copy'"
        (click)="copy()"
      >
        {{ copied() ? 'Copied' : 'Copy' }}
      </button>
      <span class="visually-hidden" aria-live="polite">{{ copied() ? 'Address copied' : '' }}</span>
    </span>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AddressChip {
  readonly address = input.required<string>();
  /** `data-testid` of the chip; the copy button gets `<testId>-copy`. */
  readonly testId = input('address-chip');

  protected readonly short = computed(() => shortAddress(this.address()));
  protected readonly copied = signal(false);
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.timer));
  }

  protected async copy(): Promise<void> {
    const ok = await copyText(this.address());
    if (!ok) return;
    this.copied.set(true);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.copied.set(false), 2000);
  }
}

/** Copies text with the Clipboard API, or the older selection trick where it is unavailable. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through
  }
  try {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = typeof document.execCommand === 'function' && document.execCommand('copy');
    area.remove();
    return ok;
  } catch {
    return false;
  }
}
