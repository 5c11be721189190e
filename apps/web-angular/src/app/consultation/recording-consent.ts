import { ChangeDetectionStrategy, Component, inject, input, output, signal } from '@angular/core';

import { toApiError } from '../core/api-client';
import { ConsultationApi, type SessionView } from './consultation-api';

/**
 * The patient's answer to "may this consultation be recorded?": the current answer and buttons to
 * give or withdraw consent (`POST /sessions/:id/recording-consent`). Recording needs it; nothing is
 * recorded without it.
 *
 * Test hooks: `recording-consent` (with `data-consent`), `recording-consent-state`,
 * `recording-consent-give`, `recording-consent-withdraw`, `recording-consent-error`.
 */
@Component({
  selector: 'app-recording-consent',
  template: `
    @let s = session();
    <section
      class="panel"
      aria-labelledby="recording-consent-heading"
      data-testid="recording-consent"
      [attr.data-consent]="s.recordingConsent"
    >
      <h2 id="recording-consent-heading" class="panel__heading">May this consultation be recorded?</h2>
      <p data-testid="recording-consent-state" role="status">
        @if (s.recordingConsent) {
          <strong>Yes:</strong> you allowed recording. You can withdraw this at any time.
        } @else {
          <strong>No:</strong> nothing is recorded unless you allow it.
        }
      </p>
      <div class="actions">
        <button
          type="button"
          [class.button--primary]="!s.recordingConsent"
          data-testid="recording-consent-give"
          [attr.aria-pressed]="s.recordingConsent"
          [disabled]="busy() || s.recordingConsent"
          (click)="answer(true)"
        >
          Yes, allow recording
        </button>
        <button
          type="button"
          data-testid="recording-consent-withdraw"
          [attr.aria-pressed]="!s.recordingConsent"
          [disabled]="busy() || !s.recordingConsent"
          (click)="answer(false)"
        >
          No recording
        </button>
      </div>
      @if (error()) {
        <p class="form-error" role="alert" data-testid="recording-consent-error">{{ error() }}</p>
      }
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordingConsentPanel {
  readonly session = input.required<SessionView>();
  /** The new answer, once the API accepted it. */
  readonly changed = output<boolean>();

  private readonly api = inject(ConsultationApi);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);

  protected async answer(consent: boolean): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    try {
      await this.api.setRecordingConsent(this.session().id, consent);
      this.changed.emit(consent);
    } catch (error) {
      this.error.set(toApiError(error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
