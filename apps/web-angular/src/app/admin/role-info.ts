import type { ManagedRole } from '../core/contract-abi';

/** How each role is named and explained in the console. */
export interface RoleInfo {
  readonly role: ManagedRole;
  /** `provider` → "provider" (after "Register as …"). */
  readonly singular: string;
  /** List heading. */
  readonly plural: string;
  readonly description: string;
  /** An administrator registers and removes it here (the admin role itself is not changed here). */
  readonly managed: boolean;
}

export const ROLES: readonly RoleInfo[] = [
  {
    role: 'provider',
    singular: 'provider',
    plural: 'Providers',
    description: 'Clinicians and clinics patients can grant access to.',
    managed: true,
  },
  {
    role: 'emergency',
    singular: 'emergency staff member',
    plural: 'Emergency staff',
    description: 'May open 24-hour emergency access to a patient, with a reason that is recorded.',
    managed: true,
  },
  {
    role: 'auditor',
    singular: 'auditor',
    plural: 'Auditors',
    description: 'Compliance officers: review, replay, verify and export the audit trail.',
    managed: true,
  },
  {
    role: 'admin',
    singular: 'administrator',
    plural: 'Administrators',
    description: 'Manage roles and can pause Custos.',
    managed: false,
  },
];

export const MANAGED_ROLES: readonly RoleInfo[] = ROLES.filter((r) => r.managed);

export function roleInfo(role: ManagedRole): RoleInfo {
  return ROLES.find((r) => r.role === role)!;
}
