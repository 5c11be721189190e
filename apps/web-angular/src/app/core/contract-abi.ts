/**
 * The slice of the HealthRecordAccessControl ABI that people's own wallets call (the administrator's
 * role changes and pause, emergency staff's break-glass), with readable revert reasons. Loaded only
 * with `import()` (see `loadContractAbi()` in contract-transactions.ts), so ethers' ABI coder stays out
 * of the initial bundle. The selectors are checked against the TypeChain factory in the spec.
 */
import { Interface, ZeroHash, getAddress, id } from 'ethers';

import { shortAddress } from './address';

/** The roles an administrator manages (`admin` is the contract's DEFAULT_ADMIN_ROLE). */
export type ManagedRole = 'provider' | 'emergency' | 'auditor' | 'admin';

/** Role ids as the contract defines them: `keccak256("PROVIDER_ROLE")`, …; admin is `0x00…00`. */
export const ROLE_IDS: Readonly<Record<ManagedRole, string>> = {
  admin: ZeroHash,
  provider: id('PROVIDER_ROLE'),
  emergency: id('EMERGENCY_ROLE'),
  auditor: id('AUDITOR_ROLE'),
};

const ROLE_WORDS: ReadonlyMap<string, string> = new Map([
  [ROLE_IDS.admin, 'administrator'],
  [ROLE_IDS.provider, 'provider'],
  [ROLE_IDS.emergency, 'emergency staff'],
  [ROLE_IDS.auditor, 'auditor'],
  [id('ANCHOR_ROLE'), 'audit anchoring'],
]);

export const contractInterface = new Interface([
  'function grantRole(bytes32 role, address account)',
  'function revokeRole(bytes32 role, address account)',
  'function pause()',
  'function unpause()',
  'function emergencyAccess(address patient, bytes32 reasonHash)',
  'function emergencyExpiry(address patient, address provider) view returns (uint64)',
  'event EmergencyAccessStarted(address indexed patient, address indexed provider, bytes32 reasonHash, uint64 expiresAt)',
  'event AuditAnchored(bytes32 indexed root, uint64 fromPosition, uint64 toPosition)',
  'error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)',
  'error AccessControlBadConfirmation()',
  'error EnforcedPause()',
  'error ExpectedPause()',
  'error MissingReasonHash()',
  'error NotAProvider(address account)',
  'error NoEmergencyAccess(address patient, address provider)',
]);

/** `grantRole(role, account)` calldata. */
export function grantRoleData(role: ManagedRole, account: string): string {
  return contractInterface.encodeFunctionData('grantRole', [ROLE_IDS[role], getAddress(account)]);
}

/** `revokeRole(role, account)` calldata. */
export function revokeRoleData(role: ManagedRole, account: string): string {
  return contractInterface.encodeFunctionData('revokeRole', [ROLE_IDS[role], getAddress(account)]);
}

/** `pause()` or `unpause()` calldata. */
export function pauseData(paused: boolean): string {
  return contractInterface.encodeFunctionData(paused ? 'pause' : 'unpause', []);
}

/** `emergencyAccess(patient, reasonHash)` calldata. */
export function emergencyAccessData(patient: string, reasonHash: string): string {
  return contractInterface.encodeFunctionData('emergencyAccess', [getAddress(patient), reasonHash]);
}

/** `emergencyExpiry(patient, provider)` calldata, for `eth_call`. */
export function emergencyExpiryData(patient: string, provider: string): string {
  return contractInterface.encodeFunctionData('emergencyExpiry', [getAddress(patient), getAddress(provider)]);
}

/** The answer of `emergencyExpiry` (unix seconds; 0: no open window). */
export function decodeEmergencyExpiry(result: string): number {
  return Number(contractInterface.decodeFunctionResult('emergencyExpiry', result)[0] as bigint);
}

/** The hash the API keeps for an emergency reason: keccak256 of its trimmed UTF-8 text. */
export function reasonHash(reason: string): string {
  return id(reason.trim());
}

/** True for a well-formed address (checksummed, or all lower/upper case). */
export function isAddress(value: string): boolean {
  try {
    getAddress(value);
    return true;
  } catch {
    return false;
  }
}

interface Log {
  readonly address: string;
  readonly topics: readonly string[];
  readonly data: string;
}

/** The `EmergencyAccessStarted` event among a receipt's logs. */
export function emergencyStarted(
  logs: readonly Log[],
): { patient: string; provider: string; reasonHash: string; expiresAt: number } | null {
  for (const log of logs) {
    const parsed = parse(log);
    if (parsed?.name !== 'EmergencyAccessStarted') continue;
    return {
      patient: parsed.args[0] as string,
      provider: parsed.args[1] as string,
      reasonHash: parsed.args[2] as string,
      expiresAt: Number(parsed.args[3] as bigint),
    };
  }
  return null;
}

/** The `AuditAnchored` events among a receipt's logs. */
export function auditAnchored(
  logs: readonly Log[],
): { root: string; fromPosition: number; toPosition: number }[] {
  const found: { root: string; fromPosition: number; toPosition: number }[] = [];
  for (const log of logs) {
    const parsed = parse(log);
    if (parsed?.name !== 'AuditAnchored') continue;
    found.push({
      root: (parsed.args[0] as string).toLowerCase(),
      fromPosition: Number(parsed.args[1] as bigint),
      toPosition: Number(parsed.args[2] as bigint),
    });
  }
  return found;
}

/** Why the contract refused a call, in words, from its revert data; `null` when unknown. */
export function revertReason(data: string | undefined): string | null {
  if (!data || data === '0x') return null;
  let error;
  try {
    error = contractInterface.parseError(data);
  } catch {
    error = null;
  }
  if (!error) return null;
  switch (error.name) {
    case 'Error': // require(condition, "message")
      return String(error.args[0]);
    case 'AccessControlUnauthorizedAccount': {
      const role = ROLE_WORDS.get(String(error.args[1]).toLowerCase()) ?? 'required';
      return `The account ${shortAddress(String(error.args[0]))} does not hold the ${role} role on the contract.`;
    }
    case 'EnforcedPause':
      return 'Custos is paused: no change can be made until an administrator resumes it.';
    case 'ExpectedPause':
      return 'Custos is not paused.';
    case 'MissingReasonHash':
      return 'An emergency access needs a reason.';
    case 'NotAProvider':
      return `${shortAddress(String(error.args[0]))} is not a registered provider.`;
    case 'NoEmergencyAccess':
      return 'There is no open emergency access for this patient.';
    default:
      return `The contract refused it (${error.name}).`;
  }
}

function parse(log: Log) {
  try {
    return contractInterface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return null;
  }
}
