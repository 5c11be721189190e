import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink } from '@angular/router';

import { HealthStatus } from '../health/health-status';

/** The landing page: what Custos is, in plain words, and whether the API is up. */
@Component({
  selector: 'app-home-page',
  imports: [RouterLink, HealthStatus],
  templateUrl: './home-page.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class HomePage {}
