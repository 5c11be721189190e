import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  computed,
  inject,
  viewChild,
} from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

import { type Role, Session } from './core/session';
import { AddressChip } from './shared/address-chip';

/** One entry of the main navigation. */
export interface NavLink {
  readonly path: string;
  readonly label: string;
  /** Shown only to accounts with this role; `null`: to everyone signed in. Absent: to everyone. */
  readonly role?: Role | null;
}

/** Every area, in navigation order; `visibleLinks` keeps those the current user may open. */
export const NAV_LINKS: readonly NavLink[] = [
  { path: '/', label: 'Home' },
  { path: '/patient', label: 'Patient', role: null },
  { path: '/provider', label: 'Provider', role: 'provider' },
  { path: '/compliance', label: 'Compliance', role: 'auditor' },
  { path: '/admin', label: 'Administration', role: 'admin' },
  { path: '/emergency', label: 'Emergency', role: 'emergency' },
];

/**
 * The application shell: header with the product name, the main navigation (only the areas of the
 * signed-in user's roles), the account (address and sign out, or sign in) and the routed page.
 */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, AddressChip],
  templateUrl: './app.html',
  styleUrl: './app.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class App {
  protected readonly productName = 'Custos';
  protected readonly session = inject(Session);
  private readonly router = inject(Router);

  protected readonly navLinks = computed(() => {
    const signedIn = this.session.signedIn();
    const roles = this.session.roles();
    return NAV_LINKS.filter(
      (link) => link.role === undefined || (signedIn && (link.role === null || roles.includes(link.role))),
    );
  });

  private readonly main = viewChild.required<ElementRef<HTMLElement>>('main');

  /**
   * With `<base href="/">` a bare `#main-content` link would resolve against the base and leave
   * the current page, so the skip link moves focus itself.
   */
  protected skipToMain(event: Event): void {
    event.preventDefault();
    this.main().nativeElement.focus();
  }

  protected async signOut(): Promise<void> {
    await this.session.signOut();
    await this.router.navigateByUrl('/');
    this.main().nativeElement.focus();
  }
}
