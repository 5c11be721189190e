import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';

import { toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { AddressChip } from '../shared/address-chip';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadMore } from '../shared/load-more';
import { LoadingState } from '../shared/loading-state';
import { PagedList } from '../shared/paged-list';
import { DateTimePipe } from '../shared/time-left';
import { AccessVolumeChart } from './access-volume-chart';
import { AuditFilterForm, type TimelineFilter } from './audit-filter-form';
import { AuditProofCheck, type ProofCheck } from './audit-proof-check';
import { type AuditEntry, ComplianceApi, type ExportFormat } from './compliance-api';
import { SAVE_FILE, exportFilename } from './file-download';

/** Entries per page of `GET /audit`. */
export const TIMELINE_PAGE_SIZE = 100;

type ProofState =
  { readonly status: 'checking' } | ProofCheck | { readonly status: 'error'; readonly reason: string };

/**
 * The audit timeline for compliance officers: every gate decision, newest first, filtered by patient,
 * actor, action and time range; the access volume chart of what is loaded; per entry, a proof that
 * it is in the log anchored on-chain (verified in this browser); CSV and FHIR exports.
 *
 * Test hooks: `timeline-row` (`data-outcome`), `timeline-more`, `timeline-loading`, `timeline-empty`,
 * `timeline-error`, `proof-button`, `proof-result` (`data-status`), `export-csv`, `export-fhir`,
 * `export-status`.
 */
@Component({
  selector: 'app-audit-timeline',
  imports: [
    AuditFilterForm,
    AccessVolumeChart,
    AddressChip,
    LoadingState,
    LoadMore,
    ErrorState,
    EmptyState,
    DateTimePipe,
  ],
  template: `
    <h2 class="visually-hidden">Audit timeline</h2>
    <app-audit-filter-form [actions]="actions()" (applied)="applyFilter($event)" />

    <section class="section" aria-labelledby="timeline-export-heading">
      <h3 id="timeline-export-heading" class="visually-hidden">Export</h3>
      <div class="actions">
        <button
          type="button"
          data-testid="export-csv"
          [disabled]="exporting() !== null"
          [attr.aria-busy]="exporting() === 'csv'"
          (click)="export('csv')"
        >
          {{ exporting() === 'csv' ? 'Exporting…' : 'Export CSV' }}
        </button>
        <button
          type="button"
          data-testid="export-fhir"
          [disabled]="exporting() !== null"
          [attr.aria-busy]="exporting() === 'fhir'"
          (click)="export('fhir')"
        >
          {{ exporting() === 'fhir' ? 'Exporting…' : 'Export FHIR' }}
        </button>
      </div>
      <p class="hint">{{ exportHint() }}</p>
      <div role="status" data-testid="export-status">
        @if (exportMessage(); as message) {
          <p [class]="message.ok ? 'notice' : 'form-error'">{{ message.text }}</p>
        }
      </div>
    </section>

    @switch (list.status()) {
      @case ('loading') {
        <app-loading-state label="Loading the audit trail…" testId="timeline-loading" />
      }
      @case ('error') {
        <app-error-state
          heading="The audit trail could not be loaded"
          [message]="list.error()"
          testId="timeline-error"
          (retry)="load()"
        />
      }
      @default {
        <app-access-volume-chart [entries]="visible()" [from]="chartFrom()" [to]="chartTo()" />
        @if (actionNote(); as note) {
          <p class="hint" data-testid="timeline-action-note">{{ note }}</p>
        }
        @if (visible().length === 0) {
          <app-empty-state heading="No audit entries match." testId="timeline-empty">
            Change or clear the filters. Every access decision, allowed or denied, is recorded here.
          </app-empty-state>
        } @else {
          <div class="table-wrap" tabindex="0" role="region" aria-labelledby="timeline-caption">
            <table class="table table--compact" data-testid="timeline">
              <caption id="timeline-caption" class="visually-hidden">
                Audit entries, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Patient</th>
                  <th scope="col">What</th>
                  <th scope="col">Purpose</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Proof</th>
                </tr>
              </thead>
              <tbody>
                @for (entry of visible(); track entry.id) {
                  @let proof = proofState(entry.id);
                  <tr
                    data-testid="timeline-row"
                    [attr.data-outcome]="entry.outcome"
                    [attr.data-id]="entry.id"
                  >
                    <td data-label="When">
                      {{ entry.occurredAt | dateTime }}
                      <span class="muted nowrap">#{{ entry.sequence }}</span>
                    </td>
                    <td data-label="Actor">
                      @if (entry.actor === 'anonymous') {
                        Not signed in
                      } @else {
                        @if (actorName(entry.actor); as name) {
                          <span class="block">{{ name }}</span>
                        }
                        <app-address-chip [address]="entry.actor" testId="timeline-actor" />
                      }
                    </td>
                    <td data-label="Patient">
                      @if (entry.patient) {
                        <app-address-chip [address]="entry.patient" testId="timeline-patient" />
                      } @else {
                        <span class="muted">—</span>
                      }
                    </td>
                    <td data-label="What">
                      <code class="code">{{ entry.action }}</code>
                      <code class="code">{{ entry.resource }}</code>
                    </td>
                    <td data-label="Purpose">{{ entry.purpose || '—' }}</td>
                    <td data-label="Outcome">
                      <span
                        class="tag"
                        [class.tag--ok]="entry.outcome === 'allowed'"
                        [class.tag--denied]="entry.outcome === 'denied'"
                        >{{ entry.outcome === 'allowed' ? 'Allowed' : 'Denied' }}</span
                      >
                      <span class="muted">{{ entry.reason }}</span>
                    </td>
                    <td data-label="Proof">
                      <button
                        type="button"
                        class="button--small"
                        data-testid="proof-button"
                        [disabled]="proof?.status === 'checking'"
                        [attr.aria-label]="'Verify the on-chain proof of entry ' + entry.sequence"
                        (click)="checkProof(entry)"
                      >
                        {{ proof?.status === 'checking' ? 'Checking…' : 'Verify' }}
                      </button>
                    </td>
                  </tr>
                  @if (proof) {
                    <tr class="proof-row" data-testid="proof-result" [attr.data-status]="proof.status">
                      <td colspan="7" data-label="Proof" role="status">
                        @switch (proof.status) {
                          @case ('checking') {
                            Checking the proof of entry #{{ entry.sequence }}…
                          }
                          @case ('verified') {
                            <span class="tag tag--ok">Verified</span> {{ proofText(entry, proof) }}
                            @if (proof.status === 'verified') {
                              <span class="block muted mono">Root {{ proof.proof.root }}</span>
                              @if (proof.proof.anchor.transactionHash) {
                                <span class="block muted mono"
                                  >Transaction {{ proof.proof.anchor.transactionHash }}</span
                                >
                              }
                            }
                          }
                          @case ('pending') {
                            <span class="tag">Not anchored yet</span> {{ proofText(entry, proof) }}
                          }
                          @case ('failed') {
                            <span class="tag tag--denied">Not verified</span> {{ proofText(entry, proof) }}
                          }
                          @case ('error') {
                            <span class="tag tag--denied">Could not check</span> {{ proofText(entry, proof) }}
                          }
                        }
                      </td>
                    </tr>
                  }
                }
              </tbody>
            </table>
          </div>
        }
        <app-load-more
          label="Load older entries"
          testId="timeline-more"
          [hasMore]="!!list.nextCursor()"
          [loading]="list.loadingMore()"
          [error]="list.moreError()"
          (more)="list.loadMore()"
        />
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AuditTimeline {
  private readonly api = inject(ComplianceApi);
  private readonly proofs = inject(AuditProofCheck);
  private readonly saveFile = inject(SAVE_FILE);
  protected readonly directory = inject(ProviderDirectory);

  protected readonly filter = signal<TimelineFilter>({});
  protected readonly list = new PagedList<AuditEntry>((cursor) =>
    this.api.search(this.apiFilter(), cursor, TIMELINE_PAGE_SIZE),
  );
  private readonly entries = this.list.items;
  protected readonly proofStates = signal<ReadonlyMap<string, ProofState>>(new Map());
  protected readonly exporting = signal<ExportFormat | null>(null);
  protected readonly exportMessage = signal<{ readonly ok: boolean; readonly text: string } | null>(null);

  /** The loaded entries the action filter keeps (the API filters the rest). */
  protected readonly visible = computed(() => {
    const action = this.filter().action;
    return action ? this.entries().filter((e) => e.action === action) : this.entries();
  });
  /** Distinct actions seen, for the filter's suggestions. */
  protected readonly actions = computed(() => [...new Set(this.entries().map((e) => e.action))].sort());
  protected readonly exportHint = computed(
    () =>
      'Exports hold every entry matching the patient, actor and time filters (up to 50,000)' +
      (this.filter().action ? ', whatever the action' : '') +
      '. Each export is itself recorded in the audit trail.',
  );
  protected readonly actionNote = computed(() => {
    const action = this.filter().action;
    if (!action) return null;
    const more = this.list.nextCursor() ? ' Load older entries to search further back.' : '';
    return `Showing the ${this.visible().length} of ${this.entries().length} loaded entries with the action “${action}”.${more}`;
  });
  protected readonly chartFrom = computed(() => epoch(this.filter().from));
  protected readonly chartTo = computed(() => epoch(this.filter().to));

  constructor() {
    this.directory.load().catch(() => undefined);
    void this.load();
  }

  protected applyFilter(filter: TimelineFilter): void {
    this.filter.set(filter);
    this.exportMessage.set(null);
    void this.load();
  }

  async load(): Promise<void> {
    this.proofStates.set(new Map());
    await this.list.load();
  }

  protected async checkProof(entry: AuditEntry): Promise<void> {
    this.setProof(entry.id, { status: 'checking' });
    try {
      this.setProof(entry.id, await this.proofs.check(entry));
    } catch (error) {
      this.setProof(entry.id, { status: 'error', reason: toApiError(error).message });
    }
  }

  protected async export(format: ExportFormat): Promise<void> {
    if (this.exporting()) return;
    this.exporting.set(format);
    this.exportMessage.set(null);
    try {
      const blob = await this.api.export(this.apiFilter(), format);
      const filename = exportFilename(format === 'csv' ? 'csv' : 'fhir.json');
      this.saveFile(blob, filename);
      this.exportMessage.set({ ok: true, text: `Downloaded ${filename}.` });
    } catch (error) {
      this.exportMessage.set({ ok: false, text: toApiError(error).message });
    } finally {
      this.exporting.set(null);
    }
  }

  protected actorName(actor: string): string | null {
    if (actor === 'anonymous') return null;
    return this.directory.profile(actor)?.name ?? null;
  }

  /** The proof's outcome in words (the tag before it says which). */
  protected proofText(entry: AuditEntry, state: ProofState): string {
    switch (state.status) {
      case 'checking':
        return `Checking the proof of entry #${entry.sequence}…`;
      case 'verified': {
        const { fromPosition, toPosition, anchor } = state.proof;
        const where =
          state.onChain === 'confirmed'
            ? ` and found in the anchoring transaction on the chain${anchor.blockNumber !== null ? ` (block ${anchor.blockNumber})` : ''}.`
            : ' (the anchoring transaction is not known yet).';
        return `Entry #${entry.sequence} is in audit range ${fromPosition}–${toPosition}, whose Merkle root was checked in this browser${where}`;
      }
      default:
        return state.reason;
    }
  }

  protected proofState(id: string): ProofState | undefined {
    return this.proofStates().get(id);
  }

  private setProof(id: string, state: ProofState): void {
    this.proofStates.update((states) => new Map(states).set(id, state));
  }

  /** The filters the API applies (the action is matched here). */
  private apiFilter() {
    const { action: _action, ...filter } = this.filter();
    return filter;
  }
}

function epoch(iso: string | undefined): number | undefined {
  return iso ? Date.parse(iso) : undefined;
}
