import { type Decider, invalid, notFound } from './decider';
import type { EventDraft } from './events';

/**
 * The directory of accounts with a role, one stream per account (`directory-<account>`). Roles are
 * facts from the contract (mirrored `RoleGranted` / `RoleRevoked` logs); the profile shown to patients
 * (name, specialty) is set off-chain by an administrator.
 */

export const directoryStream = (account: string): string => `directory-${account}`;

export const ROLES = ['admin', 'provider', 'emergency', 'auditor', 'anchor'] as const;
export type Role = (typeof ROLES)[number];

/** Roles a profile can be shown for: the people patients and officers deal with. */
const PROFILED_ROLES: readonly Role[] = ['provider', 'emergency', 'auditor'];

export const NAME_MAX_LENGTH = 100;
export const SPECIALTY_MAX_LENGTH = 100;

export type DirectoryEvent =
  | EventDraft<'RoleGranted', { account: string; role: Role }>
  | EventDraft<'RoleRevoked', { account: string; role: Role }>
  | EventDraft<'ProfileUpdated', { account: string; name: string; specialty: string }>;

export type DirectoryCommand =
  | { type: 'RecordRoleGranted'; account: string; role: Role }
  | { type: 'RecordRoleRevoked'; account: string; role: Role }
  | { type: 'SetProfile'; account: string; name: string; specialty: string };

export interface DirectoryState {
  account: string | null;
  roles: readonly Role[];
  profile: { name: string; specialty: string } | null;
}

const initialState: DirectoryState = { account: null, roles: [], profile: null };

function decide(command: DirectoryCommand, state: DirectoryState): DirectoryEvent[] {
  switch (command.type) {
    case 'RecordRoleGranted':
      return [{ type: 'RoleGranted', version: 1, data: { account: command.account, role: command.role } }];
    case 'RecordRoleRevoked':
      return [{ type: 'RoleRevoked', version: 1, data: { account: command.account, role: command.role } }];
    case 'SetProfile': {
      if (!state.roles.some((role) => PROFILED_ROLES.includes(role))) {
        throw notFound(
          'not_a_member',
          `${command.account} is not a provider, emergency staff member or auditor`,
        );
      }
      const name = command.name.trim();
      const specialty = command.specialty.trim();
      if (name.length === 0 || name.length > NAME_MAX_LENGTH) {
        throw invalid('invalid_name', `name must be 1 to ${NAME_MAX_LENGTH} characters`);
      }
      if (specialty.length > SPECIALTY_MAX_LENGTH) {
        throw invalid('invalid_specialty', `specialty must be at most ${SPECIALTY_MAX_LENGTH} characters`);
      }
      if (state.profile?.name === name && state.profile.specialty === specialty) return [];
      return [{ type: 'ProfileUpdated', version: 1, data: { account: command.account, name, specialty } }];
    }
  }
}

function evolve(state: DirectoryState, event: DirectoryEvent): DirectoryState {
  switch (event.type) {
    case 'RoleGranted':
      return {
        ...state,
        account: event.data.account,
        roles: state.roles.includes(event.data.role) ? state.roles : [...state.roles, event.data.role],
      };
    case 'RoleRevoked':
      return {
        ...state,
        account: event.data.account,
        roles: state.roles.filter((r) => r !== event.data.role),
      };
    case 'ProfileUpdated':
      return { ...state, profile: { name: event.data.name, specialty: event.data.specialty } };
  }
}

export const directoryDecider: Decider<DirectoryCommand, DirectoryState, DirectoryEvent> = {
  initialState,
  decide: (command, state) => decide(command, state),
  evolve,
};
