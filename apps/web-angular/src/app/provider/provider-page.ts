import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

/** The provider area: its navigation (patients, requesting access, consultations) and the page. */
@Component({
  selector: 'app-provider-page',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  template: `
    <nav class="subnav" aria-label="Provider">
      <ul>
        <li>
          <a
            routerLink="/provider"
            routerLinkActive="is-active"
            [routerLinkActiveOptions]="{ exact: true }"
            ariaCurrentWhenActive="page"
            data-testid="nav-provider-patients"
            >Patients</a
          >
        </li>
        <li>
          <a
            routerLink="/provider/request-access"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-provider-request-access"
            >Request access</a
          >
        </li>
        <li>
          <a
            routerLink="/provider/messages"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-provider-messages"
            >Messages</a
          >
        </li>
        <li>
          <a
            routerLink="/provider/consultations"
            routerLinkActive="is-active"
            ariaCurrentWhenActive="page"
            data-testid="nav-provider-consultations"
            >Consultations</a
          >
        </li>
      </ul>
    </nav>
    <router-outlet />
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProviderPage {}
