import type { TypedDataDomain, TypedDataField } from 'ethers';

/**
 * EIP-712 typed data for the patient signatures the contract accepts (`...WithSig`). This is the one
 * implementation: the API verifies with it and the web app signs with it.
 */
export const CONSENT_DOMAIN_NAME = 'HealthRecordAccessControl';
export const CONSENT_DOMAIN_VERSION = '2';

export function consentDomain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return { name: CONSENT_DOMAIN_NAME, version: CONSENT_DOMAIN_VERSION, chainId, verifyingContract };
}

export interface GrantMessage {
  patient: string;
  provider: string;
  category: string;
  expiresAt: bigint | number;
  nonce: bigint | number;
  deadline: bigint | number;
}

export interface GrantItem {
  provider: string;
  category: string;
  expiresAt: bigint | number;
}

export interface GrantBatchMessage {
  patient: string;
  items: GrantItem[];
  nonce: bigint | number;
  deadline: bigint | number;
}

export interface RevokeMessage {
  patient: string;
  provider: string;
  category: string;
  nonce: bigint | number;
  deadline: bigint | number;
}

export interface RegisterRecordMessage {
  patient: string;
  recordId: string;
  category: string;
  supersedes: string;
  nonce: bigint | number;
  deadline: bigint | number;
}

const GRANT_ITEM_FIELDS: TypedDataField[] = [
  { name: 'provider', type: 'address' },
  { name: 'category', type: 'bytes32' },
  { name: 'expiresAt', type: 'uint64' },
];

/** Field lists per primary type, exactly as the contract's type hashes spell them. */
export const CONSENT_TYPES = {
  Grant: {
    Grant: [
      { name: 'patient', type: 'address' },
      { name: 'provider', type: 'address' },
      { name: 'category', type: 'bytes32' },
      { name: 'expiresAt', type: 'uint64' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
    ],
  },
  GrantBatch: {
    GrantBatch: [
      { name: 'patient', type: 'address' },
      { name: 'items', type: 'GrantItem[]' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
    ],
    GrantItem: GRANT_ITEM_FIELDS,
  },
  Revoke: {
    Revoke: [
      { name: 'patient', type: 'address' },
      { name: 'provider', type: 'address' },
      { name: 'category', type: 'bytes32' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
    ],
  },
  RegisterRecord: {
    RegisterRecord: [
      { name: 'patient', type: 'address' },
      { name: 'recordId', type: 'bytes32' },
      { name: 'category', type: 'bytes32' },
      { name: 'supersedes', type: 'bytes32' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
    ],
  },
} as const satisfies Record<string, Record<string, TypedDataField[]>>;

export type ConsentPrimaryType = keyof typeof CONSENT_TYPES;

interface MessageOf {
  Grant: GrantMessage;
  GrantBatch: GrantBatchMessage;
  Revoke: RevokeMessage;
  RegisterRecord: RegisterRecordMessage;
}

/** What ethers' `signTypedData(domain, types, message)` and `verifyTypedData` take. */
export interface ConsentTypedData<T extends ConsentPrimaryType> {
  domain: TypedDataDomain;
  primaryType: T;
  types: Record<string, TypedDataField[]>;
  message: MessageOf[T];
}

export function consentTypedData<T extends ConsentPrimaryType>(
  primaryType: T,
  domain: TypedDataDomain,
  message: MessageOf[T],
): ConsentTypedData<T> {
  // ethers wants mutable arrays; copies keep the shared constants frozen in practice.
  const types = Object.fromEntries(
    Object.entries(CONSENT_TYPES[primaryType]).map(([name, fields]) => [name, [...fields]]),
  );
  return { domain, primaryType, types, message };
}
