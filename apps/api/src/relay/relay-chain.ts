import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  categoryId,
  consentDomain,
  consentTypedData,
  HealthRecordAccessControl__factory,
  isCategoryName,
} from '@custos/chain';
import { type ConsentEvent, type GrantTerms, invalid, type RecordRegistrationTerms } from '@custos/domain';
import { type Interface, type JsonRpcProvider, verifyTypedData, ZeroHash } from 'ethers';
import { CHAIN_DEPLOYMENT, CHAIN_PROVIDER } from '../chain/chain.module';
import type { ContractDeployment } from '../chain/deployment';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';

/** A patient's signed intent as the relay handles it: what the signature covers besides the nonce. */
export type SignedConsentIntent =
  | {
      kind: 'grant';
      patient: string;
      grants: GrantTerms[];
      /** Signed as one `GrantBatch` (else one `Grant`, exactly one item). */
      batch: boolean;
      deadline: number;
      signature: string;
    }
  | {
      kind: 'revoke';
      patient: string;
      provider: string;
      category: string;
      deadline: number;
      signature: string;
    }
  | ({
      kind: 'register_record';
      patient: string;
      deadline: number;
      signature: string;
    } & RecordRegistrationTerms);

/** The events on a consent stream that carry a signed intent for the relay. */
export type SubmittedEvent = Extract<
  ConsentEvent,
  { type: 'ConsentGrantSubmitted' | 'ConsentRevokeSubmitted' | 'RecordRegistrationSubmitted' }
>;

export const isSubmittedEvent = (event: ConsentEvent): event is SubmittedEvent =>
  event.type === 'ConsentGrantSubmitted' ||
  event.type === 'ConsentRevokeSubmitted' ||
  event.type === 'RecordRegistrationSubmitted';

/** The intent a `...Submitted` event carries. */
export function intentOf(event: SubmittedEvent): SignedConsentIntent {
  const { patient, deadline, signature } = event.data;
  if (event.type === 'RecordRegistrationSubmitted') {
    const { recordId, category, supersedes } = event.data;
    return { kind: 'register_record', patient, recordId, category, supersedes, deadline, signature };
  }
  if (event.type === 'ConsentRevokeSubmitted') {
    return {
      kind: 'revoke',
      patient,
      provider: event.data.provider,
      category: event.data.category,
      deadline,
      signature,
    };
  }
  return {
    kind: 'grant',
    patient,
    grants: event.data.grants,
    batch: event.data.batch === true || event.data.grants.length !== 1,
    deadline,
    signature,
  };
}

function category(name: string): string {
  if (!isCategoryName(name)) throw invalid('invalid_category', `unknown category ${name}`);
  return categoryId(name);
}

/**
 * The relay's view of the contract: the one EIP-712 implementation (libs/chain) to check a signature
 * against the patient's on-chain nonce, and the calldata of the `...WithSig` functions.
 */
@Injectable()
export class RelayChain {
  readonly iface: Interface = HealthRecordAccessControl__factory.createInterface();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CHAIN_PROVIDER) readonly provider: JsonRpcProvider | null,
    @Inject(CHAIN_DEPLOYMENT) readonly deployment: ContractDeployment | null,
  ) {}

  get chainId(): number {
    return this.config.CHAIN_ID;
  }

  /** Whether there is a chain and a contract to relay to. */
  get available(): boolean {
    return this.provider !== null && this.deployment !== null;
  }

  /** The provider and the contract address, or 503 when there is no contract to relay to. */
  require(): { provider: JsonRpcProvider; contract: string } {
    if (!this.provider || !this.deployment) {
      throw new ServiceUnavailableException(
        'no contract configured: the API cannot relay consents (set CHAIN_RPC_URL and CONTRACT_ADDRESS)',
      );
    }
    return { provider: this.provider, contract: this.deployment.address };
  }

  /** The patient's next nonce on the contract. */
  async nonceOf(patient: string): Promise<number> {
    const { provider, contract } = this.require();
    try {
      const nonce = await HealthRecordAccessControl__factory.connect(contract, provider).nonces(patient);
      return Number(nonce);
    } catch (error) {
      throw new ServiceUnavailableException(
        `cannot read the patient's nonce from the chain: ${(error as Error).message.slice(0, 200)}`,
      );
    }
  }

  /** The address that signed `intent` if it had been signed with `nonce`; null for an unreadable signature. */
  recover(intent: SignedConsentIntent, nonce: number): string | null {
    const { contract } = this.require();
    const domain = consentDomain(this.chainId, contract);
    const base = { patient: intent.patient, nonce, deadline: intent.deadline };
    const data =
      intent.kind === 'register_record'
        ? consentTypedData('RegisterRecord', domain, {
            ...base,
            recordId: intent.recordId,
            category: category(intent.category),
            supersedes: intent.supersedes ?? ZeroHash,
          })
        : intent.kind === 'revoke'
          ? consentTypedData('Revoke', domain, {
              ...base,
              provider: intent.provider,
              category: category(intent.category),
            })
          : intent.batch
            ? consentTypedData('GrantBatch', domain, {
                ...base,
                items: intent.grants.map((g) => ({
                  provider: g.provider,
                  category: category(g.category),
                  expiresAt: g.expiresAt,
                })),
              })
            : consentTypedData('Grant', domain, {
                ...base,
                provider: intent.grants[0]!.provider,
                category: category(intent.grants[0]!.category),
                expiresAt: intent.grants[0]!.expiresAt,
              });
    try {
      return verifyTypedData(data.domain, data.types, data.message, intent.signature).toLowerCase();
    } catch {
      return null;
    }
  }

  /**
   * Checks that the patient signed `intent` with their current on-chain nonce, before any gas is
   * spent; returns that nonce. A signature made with an earlier nonce (a replay) is named as such.
   */
  async verify(intent: SignedConsentIntent): Promise<number> {
    const { contract } = this.require();
    const nonce = await this.nonceOf(intent.patient);
    if (this.recover(intent, nonce) === intent.patient) return nonce;
    if (nonce > 0 && this.recover(intent, nonce - 1) === intent.patient) {
      throw invalid(
        'nonce_used',
        `nonce ${nonce - 1} of this signature is already used on-chain (the patient's next nonce is ${nonce}): a signature is relayed once`,
      );
    }
    throw invalid(
      'invalid_signature',
      `signature does not match the patient for nonce ${nonce} on chain ${this.chainId} / contract ${contract}`,
    );
  }

  /** The calldata of the contract call that relays `intent`. */
  encode(intent: SignedConsentIntent): string {
    if (intent.kind === 'register_record') {
      return this.iface.encodeFunctionData('registerRecordWithSig', [
        intent.patient,
        intent.recordId,
        category(intent.category),
        intent.supersedes ?? ZeroHash,
        intent.deadline,
        intent.signature,
      ]);
    }
    if (intent.kind === 'revoke') {
      return this.iface.encodeFunctionData('revokeAccessWithSig', [
        intent.patient,
        intent.provider,
        category(intent.category),
        intent.deadline,
        intent.signature,
      ]);
    }
    if (intent.batch) {
      return this.iface.encodeFunctionData('grantAccessBatchWithSig', [
        intent.patient,
        intent.grants.map((g) => ({
          provider: g.provider,
          category: category(g.category),
          expiresAt: g.expiresAt,
        })),
        intent.deadline,
        intent.signature,
      ]);
    }
    const [g] = intent.grants;
    return this.iface.encodeFunctionData('grantAccessWithSig', [
      intent.patient,
      g!.provider,
      category(g!.category),
      g!.expiresAt,
      intent.deadline,
      intent.signature,
    ]);
  }

  /** One `multicall(bytes[])`: all-or-nothing, so one bad call reverts the whole transaction. */
  multicall(calls: readonly string[]): string {
    return this.iface.encodeFunctionData('multicall', [calls]);
  }

  /** The name of the contract's custom error in revert data (e.g. `NotAProvider`), else a short description. */
  decodeRevert(data: unknown): string {
    if (typeof data === 'string' && data.length >= 10) {
      try {
        const parsed = this.iface.parseError(data);
        if (parsed) return parsed.name;
      } catch {
        // not one of ours
      }
      return `reverted with data ${data.slice(0, 10)}`;
    }
    return 'reverted without a reason';
  }
}
