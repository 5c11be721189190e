import { ChangeDetectionStrategy, Component, inject } from '@angular/core';

import { sameAddress } from '../core/address';
import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadMore } from '../shared/load-more';
import { LoadingState } from '../shared/loading-state';
import { PagedList } from '../shared/paged-list';
import { DateTimePipe } from '../shared/time-left';
import { type AuditEntry, PatientApi } from './patient-api';

/** An access log line in plain words. */
interface AccessRow {
  readonly entry: AuditEntry;
  readonly who: string;
  readonly what: string;
  readonly why: string;
  readonly allowed: boolean;
  readonly emergency: boolean;
}

/**
 * Every access to my data (`GET /audit/me`), newest first: who, what, when and why, allowed or
 * refused. Emergency accesses are marked and highlighted.
 */
@Component({
  selector: 'app-access-log',
  imports: [LoadingState, LoadMore, ErrorState, EmptyState, DateTimePipe],
  template: `
    <h1>Access log</h1>
    <p class="lede">Every time someone opened or asked for your records, Custos wrote it down here.</p>

    @switch (list.status()) {
      @case ('loading') {
        <app-loading-state label="Loading your access log…" testId="access-log-loading" />
      }
      @case ('error') {
        <app-error-state
          heading="Your access log could not be loaded"
          [message]="list.error()"
          testId="access-log-error"
          (retry)="list.load()"
        />
      }
      @default {
        @if (list.items().length === 0) {
          <app-empty-state heading="Nobody has accessed your records yet." testId="access-log-empty">
            When a provider opens your records, it will appear here with the reason they gave.
          </app-empty-state>
        } @else {
          <div class="table-wrap" tabindex="0" role="region" aria-labelledby="access-log-caption">
            <table class="table" data-testid="access-log">
              <caption id="access-log-caption" class="visually-hidden">
                Accesses to your records, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">Why</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                @for (row of list.items(); track row.entry.id) {
                  <tr
                    data-testid="access-log-row"
                    [class.row--emergency]="row.emergency"
                    [attr.data-emergency]="row.emergency"
                    [attr.data-outcome]="row.entry.outcome"
                  >
                    <td data-label="When">{{ row.entry.occurredAt | dateTime }}</td>
                    <td data-label="Who">
                      @if (row.emergency) {
                        <span class="tag tag--emergency" data-testid="access-log-emergency">Emergency</span>
                      }
                      {{ row.who }}
                    </td>
                    <td data-label="What">{{ row.what }}</td>
                    <td data-label="Why">{{ row.why }}</td>
                    <td data-label="Result">
                      <span class="tag" [class.tag--ok]="row.allowed" [class.tag--denied]="!row.allowed">
                        {{ row.allowed ? 'Allowed' : 'Refused' }}
                      </span>
                      <span class="muted">{{ row.entry.reason }}</span>
                    </td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
          <app-load-more
            label="Show older entries"
            testId="access-log-more"
            [hasMore]="!!list.nextCursor()"
            [loading]="list.loadingMore()"
            [error]="list.moreError()"
            (more)="list.loadMore()"
          />
        }
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AccessLog {
  private readonly api = inject(PatientApi);
  private readonly directory = inject(ProviderDirectory);
  private readonly session = inject(Session);

  protected readonly list = new PagedList<AccessRow>(async (cursor) => {
    // The names of the providers are a nicety: the log shows addresses without them.
    const [page] = await Promise.all([
      this.api.accessLog(cursor),
      cursor ? undefined : this.directory.load().catch(() => undefined),
    ]);
    return { items: page.items.map((e) => this.describe(e)), nextCursor: page.nextCursor };
  });

  constructor() {
    void this.list.load();
  }

  private describe(entry: AuditEntry): AccessRow {
    const who =
      entry.actor === 'anonymous'
        ? 'Someone not signed in'
        : sameAddress(entry.actor, this.session.address())
          ? 'You'
          : this.directory.displayName(entry.actor);
    return {
      entry,
      who,
      what: describeAccess(entry.resource, entry.action),
      why: entry.purpose || '—',
      allowed: entry.outcome === 'allowed',
      emergency: isEmergency(entry),
    };
  }
}

/** An emergency (break-glass) access, by its resource, purpose or reason. */
export function isEmergency(entry: Pick<AuditEntry, 'resource' | 'action' | 'purpose' | 'reason'>): boolean {
  return [entry.resource, entry.action, entry.purpose ?? '', entry.reason].some((text) =>
    /emergency/i.test(text),
  );
}

/** The resource and action of an audit entry in plain words. */
export function describeAccess(resource: string, action: string): string {
  if (resource === 'emergency') return 'Declared an emergency to open your records';
  if (resource.startsWith('record:'))
    return action === 'release_key' ? 'Opened one of your records' : 'A record of yours';
  if (/^session:[^/]+\/credentials$/.test(resource)) return 'Joined a video consultation with you';
  if (resource.startsWith('conversation:') && action === 'send_message') return 'Sent you a message';
  if (resource.endsWith('/participants')) return 'Added someone to a conversation with you';
  if (resource === 'conversations') return 'Started a conversation with you';
  if (resource === 'messaging/chat-credentials') return 'Connected to messaging';
  if (resource === 'consents' || resource.includes('consent')) return 'Checked your consents';
  if (resource.startsWith('audit')) return 'Reviewed the access history (compliance)';
  const verb = action.replace(/_/g, ' ').toLowerCase();
  return `${verb.charAt(0).toUpperCase()}${verb.slice(1)} ${resource}`;
}
