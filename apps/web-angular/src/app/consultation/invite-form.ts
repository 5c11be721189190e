import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  computed,
  inject,
  input,
  output,
  signal,
  viewChild,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { addressError } from './address-validation';
import {
  CONSULTATION_INVITEE_ROLES,
  ConsultationApi,
  type ConsultationInviteeRole,
  type InvitationBody,
} from './consultation-api';
import { roleLabel } from './consultation-text';

/**
 * The provider invites someone to a consultation (`POST /sessions/:id/invitations`): a specialist, an
 * interpreter, family or another provider. The patient then admits them before they can join.
 *
 * Test hooks: `invite-form`, `invite-participant`, `invite-role`, `invite-submit`, `invite-error`,
 * `invite-done`.
 */
@Component({
  selector: 'app-invite-form',
  template: `
    <form
      class="panel"
      novalidate
      aria-labelledby="invite-heading"
      data-testid="invite-form"
      (submit)="submit($event)"
    >
      <h2 id="invite-heading" class="panel__heading">Invite someone</h2>
      <p class="hint">The patient admits them before they can join.</p>
      <div class="field">
        <label for="invite-participant">Their account address</label>
        <input
          #addressInput
          id="invite-participant"
          type="text"
          autocomplete="off"
          spellcheck="false"
          placeholder="0x…"
          data-testid="invite-participant"
          [value]="address()"
          [attr.aria-invalid]="showErrors() && !!addressProblem()"
          [attr.aria-describedby]="showErrors() && addressProblem() ? 'invite-participant-error' : null"
          (input)="address.set(addressInput.value)"
        />
        @if (showErrors() && addressProblem()) {
          <p id="invite-participant-error" class="form-error">{{ addressProblem() }}</p>
        }
      </div>
      <div class="field">
        <label for="invite-role">As</label>
        <select
          #roleSelect
          id="invite-role"
          data-testid="invite-role"
          (change)="role.set($any(roleSelect.value))"
        >
          @for (r of roles; track r) {
            <option [value]="r" [selected]="r === role()">{{ roleLabel(r) }}</option>
          }
        </select>
      </div>
      <div class="actions">
        <button type="submit" class="button--primary" data-testid="invite-submit" [disabled]="busy()">
          {{ busy() ? 'Inviting…' : 'Invite' }}
        </button>
      </div>
      @if (error()) {
        <p class="form-error" role="alert" data-testid="invite-error">{{ error() }}</p>
      }
      <p class="notice" role="status" data-testid="invite-done">{{ done() }}</p>
    </form>
  `,
  styleUrl: './form-fields.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class InviteForm {
  readonly sessionId = input.required<string>();
  readonly invited = output<InvitationBody>();

  private readonly api = inject(ConsultationApi);
  protected readonly roles = CONSULTATION_INVITEE_ROLES;
  protected readonly roleLabel = roleLabel;
  protected readonly address = signal('');
  protected readonly role = signal<ConsultationInviteeRole>('specialist');
  protected readonly showErrors = signal(false);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly done = signal('');
  protected readonly addressProblem = computed(() => addressError(this.address(), 'their address'));
  private readonly addressInput = viewChild.required<ElementRef<HTMLInputElement>>('addressInput');

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    this.done.set('');
    this.error.set(null);
    if (this.addressProblem()) {
      this.showErrors.set(true);
      this.addressInput().nativeElement.focus();
      return;
    }
    const body: InvitationBody = { participant: this.address().trim(), role: this.role() };
    this.busy.set(true);
    try {
      await this.api.invite(this.sessionId(), body);
      this.address.set('');
      this.showErrors.set(false);
      this.done.set(
        `Invited as ${roleLabel(body.role).toLowerCase()}. They can join once the patient admits them.`,
      );
      this.invited.emit(body);
    } catch (error) {
      this.error.set(toApiError(error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
