import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';

import { toApiError } from '../core/api-client';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe } from '../shared/time-left';
import { type AnchorVerificationReport, ComplianceApi } from './compliance-api';

/**
 * Anchor verification: every audit range anchored on-chain recomputed from the event store now
 * (`GET /audit/verification`), with the first event that changed, if any. Runs when shown.
 *
 * Test hooks: `verification-status` (`data-state`: `verified`, `mismatch`, `nothing-anchored`),
 * `verification-mismatch`, `verification-run`, `verification-loading`, `verification-error`.
 */
@Component({
  selector: 'app-anchor-verification',
  imports: [LoadingState, ErrorState, DateTimePipe],
  template: `
    <section class="panel" aria-labelledby="verification-heading">
      <h2 id="verification-heading">Audit log anchoring</h2>
      @switch (status()) {
        @case ('loading') {
          <app-loading-state
            label="Checking the audit log against the chain…"
            testId="verification-loading"
          />
        }
        @case ('error') {
          <app-error-state
            heading="The verification could not run"
            [message]="error()"
            testId="verification-error"
            (retry)="run()"
          />
        }
        @default {
          @if (report(); as r) {
            <div data-testid="verification-status" [attr.data-state]="state()" role="status">
              @switch (state()) {
                @case ('verified') {
                  <p>
                    <span class="tag tag--ok">Verified</span>
                    The audit log matches the chain: {{ r.verifiedRanges }} of {{ r.anchoredRanges }} anchored
                    {{ r.anchoredRanges === 1 ? 'range' : 'ranges' }} ({{ r.anchoredEvents }}
                    {{ r.anchoredEvents === 1 ? 'event' : 'events' }}) recomputed and equal to their on-chain
                    roots.
                  </p>
                }
                @case ('nothing-anchored') {
                  <p><span class="tag">Nothing anchored yet</span> No audit range is on the chain yet.</p>
                }
                @case ('mismatch') {
                  <p>
                    <span class="tag tag--denied">Mismatch</span>
                    The audit log no longer matches the chain. Only {{ r.verifiedRanges }} of
                    {{ r.anchoredRanges }} anchored ranges verify.
                  </p>
                }
              }
            </div>
            @if (r.firstMismatch; as m) {
              <dl class="facts banner--emergency panel" data-testid="verification-mismatch">
                <dt>First changed event</dt>
                <dd>
                  #{{ m.position }}
                  @if (m.eventId) {
                    <code class="code">{{ m.eventId }}</code>
                  }
                </dd>
                <dt>Why</dt>
                <dd>{{ m.reason }}</dd>
                <dt>Anchored range</dt>
                <dd>{{ m.fromPosition }}–{{ m.toPosition }}</dd>
                <dt>Root on-chain</dt>
                <dd class="mono">{{ m.anchoredRoot }}</dd>
              </dl>
            }
            <p class="muted">
              Checked {{ r.checkedAt | dateTime }} at block {{ r.chainBlock }}.
              @if (r.unanchoredEvents > 0) {
                {{ r.unanchoredEvents }} newer {{ r.unanchoredEvents === 1 ? 'event is' : 'events are' }} not
                anchored yet: they are in the next anchor (written every minute by default).
              }
            </p>
          }
          <div class="actions">
            <button type="button" data-testid="verification-run" (click)="run()">Check again</button>
          </div>
        }
      }
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AnchorVerification {
  private readonly api = inject(ComplianceApi);

  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly report = signal<AnchorVerificationReport | null>(null);
  protected readonly state = computed(() => {
    const r = this.report();
    if (!r) return null;
    if (!r.ok) return 'mismatch';
    return r.anchoredRanges === 0 ? 'nothing-anchored' : 'verified';
  });

  constructor() {
    void this.run();
  }

  async run(): Promise<void> {
    this.status.set('loading');
    try {
      this.report.set(await this.api.verification());
      this.status.set('ready');
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }
}
