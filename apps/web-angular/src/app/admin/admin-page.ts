import { ChangeDetectionStrategy, Component, inject } from '@angular/core';

import { ChainStatusPanel } from './chain-status-panel';
import { RoleAccountList } from './role-account-list';
import { RoleDirectory } from './role-directory';
import { RoleRegistration } from './role-registration';
import { ROLES } from './role-info';

/**
 * The administrator's console: chain health and pause, registering providers, emergency staff and
 * auditors, and the accounts holding each role with their profiles. Every role change and pause is a
 * transaction the administrator signs with their own wallet.
 */
@Component({
  selector: 'app-admin-page',
  imports: [ChainStatusPanel, RoleRegistration, RoleAccountList],
  providers: [RoleDirectory],
  template: `
    <h1>Administration</h1>
    <p class="lede">
      Register and remove providers, emergency staff and auditors, and watch the chain Custos runs on. Every
      change here is signed with your own account and recorded on the chain.
    </p>
    <app-chain-status-panel />
    <app-role-registration />
    @for (r of roles; track r.role) {
      <app-role-account-list [role]="r.role" />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AdminPage {
  protected readonly roles = ROLES;

  constructor() {
    const directory = inject(RoleDirectory);
    for (const r of ROLES) void directory.load(r.role);
  }
}
