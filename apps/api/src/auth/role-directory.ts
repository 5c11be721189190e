import { Injectable } from '@nestjs/common';
import type { Role } from '@custos/domain';

/**
 * Port: the roles an account holds on the chain right now (admin, provider,
 * emergency, auditor, anchor), as mirrored into the directory read model.
 *
 * Asked on every authenticated request (by RolesGuard), never cached in the
 * session token: an account whose role is revoked on-chain loses access as soon
 * as the revocation is mirrored, without signing out.
 *
 * Bind an implementation with AuthModule.forRoot({ roleDirectory }).
 */
export abstract class RoleDirectory {
  /**
   * @param address lower-case 0x-prefixed account address
   * @returns the account's current roles; [] for an account without any
   */
  abstract rolesOf(address: string): Promise<readonly Role[]>;
}

/** The default until the directory read model is bound: nobody holds a role. */
@Injectable()
export class NoRoleDirectory extends RoleDirectory {
  rolesOf(_address: string): Promise<readonly Role[]> {
    return Promise.resolve([]);
  }
}
