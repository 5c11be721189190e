import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRoute, RouterLink } from '@angular/router';

import { Session } from '../core/session';
import { HealthStatus } from '../health/health-status';

const AREA_NAMES: Readonly<Record<string, string>> = {
  '/provider': 'provider',
  '/compliance': 'compliance',
  '/admin': 'administration',
  '/emergency': 'emergency access',
};

/** The landing page: what Custos is, in plain words, and whether the API is up. */
@Component({
  selector: 'app-home-page',
  imports: [RouterLink, HealthStatus],
  templateUrl: './home-page.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class HomePage {
  protected readonly session = inject(Session);
  private readonly query = toSignal(inject(ActivatedRoute).queryParamMap);

  /** Set when a role guard sent the user here: the area their account cannot open. */
  protected readonly deniedArea = computed(() => {
    const denied = this.query()?.get('denied');
    return denied ? (AREA_NAMES[denied] ?? 'requested') : null;
  });
}
