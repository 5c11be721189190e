import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

/**
 * The compliance officer's area: the audit timeline (filters, volume chart, proofs, exports), the
 * replay of who had access as of a moment, and the integrity checks (anchoring, consent drift).
 */
@Component({
  selector: 'app-compliance-page',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  template: `
    <h1>Compliance</h1>
    <nav class="subnav" aria-label="Compliance">
      <ul>
        <li>
          <a
            routerLink="/compliance"
            routerLinkActive="is-active"
            [routerLinkActiveOptions]="{ exact: true }"
            ariaCurrentWhenActive="page"
            data-testid="nav-compliance-timeline"
            >Audit timeline</a
          >
        </li>
        <li>
          <a
            routerLink="/compliance/replay"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-compliance-replay"
            >Replay as of</a
          >
        </li>
        <li>
          <a
            routerLink="/compliance/integrity"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-compliance-integrity"
            >Integrity checks</a
          >
        </li>
      </ul>
    </nav>
    <router-outlet />
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class CompliancePage {}
