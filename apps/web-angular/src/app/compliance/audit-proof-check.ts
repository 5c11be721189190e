import { Injectable, inject } from '@angular/core';

import { ApiError } from '../core/api-client';
import { ChainRpc } from '../core/chain-rpc';
import { loadContractAbi } from '../core/contract-transactions';
import { type AuditProof, ComplianceApi } from './compliance-api';

/** What checking one audit entry's proof found. */
export type ProofCheck =
  | {
      readonly status: 'verified';
      readonly proof: AuditProof;
      /** Whether the anchoring transaction's `AuditAnchored` log was found with this root. */
      readonly onChain: 'confirmed' | 'not-checked';
    }
  | { readonly status: 'failed'; readonly reason: string; readonly proof?: AuditProof }
  | { readonly status: 'pending'; readonly reason: string };

/**
 * Checks that an audit entry is in the log anchored on-chain, in this browser, without trusting the
 * API's word for it:
 *
 * 1. `GET /audit/proof/:id` gives the entry's leaf values, the Merkle proof and the anchored root;
 * 2. the proof is verified here with `verifyAuditProof` (libs/chain's audit-merkle.ts: the same code
 *    the API anchors with, OpenZeppelin's StandardMerkleTree);
 * 3. the anchoring transaction's receipt is read through the chain gateway and its `AuditAnchored`
 *    log must carry the same root and range, from the Custos contract.
 *
 * A not-yet-anchored entry (404 `not_anchored_yet`) is `pending`, not a failure.
 */
@Injectable({ providedIn: 'root' })
export class AuditProofCheck {
  private readonly api = inject(ComplianceApi);
  private readonly rpc = inject(ChainRpc);

  async check(entry: { readonly id: string; readonly sequence: number }): Promise<ProofCheck> {
    let proof: AuditProof;
    try {
      proof = await this.api.proof(entry.id);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_anchored_yet') {
        return { status: 'pending', reason: error.message };
      }
      throw error;
    }
    if (proof.eventId !== entry.id || proof.position !== entry.sequence) {
      return { status: 'failed', reason: 'The proof is for another entry.', proof };
    }
    if (proof.position < proof.fromPosition || proof.position > proof.toPosition) {
      return { status: 'failed', reason: 'The entry is outside the anchored range the proof names.', proof };
    }
    const { verifyAuditProof } = await import('@custos/chain/audit-merkle');
    if (!verifyAuditProof(proof.root, [proof.position, proof.eventHash], proof.proof)) {
      return {
        status: 'failed',
        reason: 'The proof does not lead to the anchored root: this entry is not the one anchored.',
        proof,
      };
    }
    if (!proof.anchor.transactionHash) return { status: 'verified', proof, onChain: 'not-checked' };

    const receipt = await this.rpc.receipt(proof.anchor.transactionHash);
    const { auditAnchored } = await loadContractAbi();
    const contract = proof.anchor.contract.toLowerCase();
    const logs = (receipt?.logs ?? []).filter((log) => log.address.toLowerCase() === contract);
    const anchored = auditAnchored(logs).some(
      (a) =>
        a.root === proof.root.toLowerCase() &&
        a.fromPosition === proof.fromPosition &&
        a.toPosition === proof.toPosition,
    );
    if (!receipt || BigInt(receipt.status) !== 1n || !anchored) {
      return {
        status: 'failed',
        reason: 'The anchoring transaction on the chain does not hold this root for this range.',
        proof,
      };
    }
    return { status: 'verified', proof, onChain: 'confirmed' };
  }
}
