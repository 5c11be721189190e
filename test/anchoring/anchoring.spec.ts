// Audit anchoring against a real node (anvil): the API anchors the Merkle root of the audit events on
// the contract, hands out inclusion proofs that verify against the on-chain root with the documented
// leaf encoding, anchors the next range contiguously, and, once an audit event is changed in the
// event store behind the API's back, the verification (endpoint and `npm run audit:verify`) names it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { AbiCoder, concat, keccak256, type HDNodeWallet } from 'ethers';
import { AUDIT_ANCHORS_STREAM, AUDIT_STREAM, type AuditRangeAnchoredData } from '@custos/domain';
import { auditEventHash, type AuditLeafSource, verifyAuditProof } from '../../libs/chain/src';
import type { AnchorVerificationReport } from '../../apps/api/src/anchoring/anchor-verifier';
import type { AuditProof } from '../../apps/api/src/anchoring/anchoring.controller';
import { AuditAnchorService } from '../../apps/api/src/anchoring/audit-anchor.service';
import type { AuditAnchorDocument, AuditDocument } from '../../apps/api/src/projections/read-models';
import {
  ANVIL_CHAIN_ID,
  type Anvil,
  type Deployed,
  deployContract,
  devWallet,
  startAnvil,
} from '../chain/anvil';
import { TestApi, until } from '../api/harness';

const ROOT = path.resolve(__dirname, '../..');
let anvil: Anvil;
let d: Deployed;
let api: TestApi;
let auditor: HDNodeWallet;
let auditorToken: string;
let patientToken: string;
const relayer = devWallet(9);

const anchorService = () => api.app.get(AuditAnchorService);

async function auditCount(): Promise<number> {
  return (await api.eventStore.readStream(AUDIT_STREAM)).length;
}

/** Audit events made the way users make them: reads by the auditor, and refusals. */
async function makeAuditEvents(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res =
      i % 2 === 0 ? await api.get('/audit', auditorToken) : await api.get('/compliance/drift', patientToken);
    assert.ok(res.statusCode === 200 || res.statusCode === 403, res.body);
  }
}

async function anchorMirrored(fromPosition: number): Promise<AuditAnchorDocument> {
  return until(`anchor ${fromPosition} mirrored`, () =>
    api.readModels.get<AuditAnchorDocument>('audit_anchors', String(fromPosition)),
  );
}

async function verification(): Promise<AnchorVerificationReport> {
  const res = await api.get('/audit/verification', auditorToken);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<AnchorVerificationReport>();
}

/** Folds a proof the way OpenZeppelin's MerkleProof does: pairs hashed in sorted order. */
function foldProof(leaf: string, proof: readonly string[]): string {
  return proof.reduce((node, sibling) => {
    const [a, b] = BigInt(node) < BigInt(sibling) ? [node, sibling] : [sibling, node];
    return keccak256(concat([a, b]));
  }, leaf);
}

const verifyCli = promisify(execFile);

before(async () => {
  anvil = await startAnvil();
  d = await deployContract(anvil.url);
  auditor = d.account(3);
  await (await d.contract.grantRole(await d.contract.AUDITOR_ROLE(), auditor.address)).wait();
  await (await d.contract.grantRole(await d.contract.ANCHOR_ROLE(), relayer.address)).wait();
  api = await TestApi.start({
    CHAIN_RPC_URL: anvil.url,
    CONTRACT_ADDRESS: d.address,
    CHAIN_ID: String(ANVIL_CHAIN_ID),
    CHAIN_POLL_INTERVAL: '100ms',
    CHAIN_CONFIRMATIONS: '1',
    RELAYER_PRIVATE_KEY: relayer.privateKey,
    // Scheduled, but the tests anchor when they choose.
    AUDIT_ANCHOR_INTERVAL: '1h',
  });
  await until('the auditor role mirrored', async () => {
    const entry = await api.readModels.get<{ id: string; isAuditor: boolean }>(
      'directory',
      auditor.address.toLowerCase(),
    );
    return entry?.isAuditor === true;
  });
  auditorToken = await api.signIn(auditor);
  patientToken = await api.signIn(d.account(4));
});

after(async () => {
  await api?.close();
  d?.close();
  await anvil?.close();
});

describe('audit anchoring: Merkle roots of the audit log on-chain', () => {
  test('the periodic anchor is scheduled when there is a contract and a relayer', () => {
    assert.equal(anchorService().scheduled, true);
  });

  test('nothing to verify before the first anchor; the audit events are counted as not anchored', async () => {
    await makeAuditEvents(3);
    const report = await verification();
    assert.equal(report.ok, true);
    assert.equal(report.anchoredRanges, 0);
    assert.equal(report.anchoredEvents, 0);
    assert.ok(report.unanchoredEvents >= 3);
  });

  test('the root of every audit event so far goes on-chain, and the API records each event hash', async () => {
    await makeAuditEvents(4);
    const count = await auditCount();
    const outcome = await anchorService().anchorNow();
    assert.equal(outcome.status, 'anchored');
    assert.ok(outcome.status === 'anchored');
    assert.equal(outcome.fromPosition, 0);
    assert.equal(outcome.toPosition, count - 1);
    assert.equal(Number(await d.contract.nextAuditPosition()), count);
    const onChain = await d.contract.auditAnchor(0);
    assert.equal(onChain.root, outcome.root);
    assert.equal(Number(onChain.toPosition), count - 1);

    const [record] = await api.eventStore.readStream(AUDIT_ANCHORS_STREAM);
    const data = record!.data as AuditRangeAnchoredData;
    assert.equal(data.txHash, outcome.txHash);
    assert.equal(data.eventHashes.length, count);
    const events = await api.eventStore.readStream(AUDIT_STREAM, { maxCount: count });
    assert.deepEqual(
      data.eventHashes,
      events.map((e) => auditEventHash(e as unknown as AuditLeafSource)),
    );
    // Nothing new to anchor right after (the reads above appended nothing).
    assert.equal((await anchorService().anchorNow()).status, 'nothing_new');
  });

  test('an audit event has an inclusion proof that verifies against the on-chain root', async () => {
    const anchor = await anchorMirrored(0);
    const anchored = await api.eventStore.readStream(AUDIT_STREAM, { maxCount: anchor.toPosition + 1 });
    const entry = (await api.readModels.get<AuditDocument>('audit', anchored[2]!.id))!;
    const res = await api.get(`/audit/proof/${entry.id}`, auditorToken);
    assert.equal(res.statusCode, 200, res.body);
    const proof = res.json<AuditProof>();
    assert.equal(proof.position, entry.sequence);
    assert.equal(proof.fromPosition, 0);
    assert.equal(proof.root, (await d.contract.auditAnchor(0)).root);
    assert.equal(proof.anchor.contract, d.address);
    assert.equal(proof.anchor.chainId, ANVIL_CHAIN_ID);
    const receipt = await d.provider.getTransactionReceipt(proof.anchor.transactionHash!);
    assert.equal(receipt?.status, 1);
    assert.equal(receipt?.blockNumber, proof.anchor.blockNumber);

    // The documented leaf encoding, computed independently of the API.
    const [stored] = await api.eventStore.readStream(AUDIT_STREAM, {
      fromRevision: entry.sequence,
      maxCount: 1,
    });
    const eventHash = auditEventHash(stored as unknown as AuditLeafSource);
    assert.equal(proof.eventHash, eventHash);
    const leaf = keccak256(
      keccak256(AbiCoder.defaultAbiCoder().encode(['uint64', 'bytes32'], [entry.sequence, eventHash])),
    );
    assert.equal(proof.leaf, leaf);
    assert.equal(foldProof(leaf, proof.proof), proof.root);
    assert.equal(verifyAuditProof(proof.root, [proof.position, proof.eventHash], proof.proof), true);
    // The same proof does not vouch for another content or another position.
    assert.equal(verifyAuditProof(proof.root, [proof.position, keccak256('0x01')], proof.proof), false);
    assert.equal(verifyAuditProof(proof.root, [proof.position + 1, proof.eventHash], proof.proof), false);
  });

  test('proofs: 404 for an event not anchored yet or unknown, 400 for a malformed id, 403 for non-auditors', async () => {
    await makeAuditEvents(1);
    const latest = (await api.eventStore.readStream(AUDIT_STREAM)).at(-1)!;
    const notYet = await api.get(`/audit/proof/${latest.id}`, auditorToken);
    assert.equal(notYet.statusCode, 404, notYet.body);
    assert.equal(notYet.json<{ code: string }>().code, 'not_anchored_yet');
    const unknown = await api.get('/audit/proof/00000000-0000-4000-8000-000000000000', auditorToken);
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<{ code: string }>().code, 'audit_event_not_found');
    const malformed = await api.get('/audit/proof/not-an-id', auditorToken);
    assert.equal(malformed.statusCode, 400);
    assert.match(malformed.body, /id must be a UUID/);
    assert.equal((await api.get(`/audit/proof/${latest.id}`, patientToken)).statusCode, 403);
    assert.equal((await api.get('/audit/verification', patientToken)).statusCode, 403);
    assert.equal((await api.get('/audit/verification')).statusCode, 401);
  });

  test('the next anchor starts right after the previous one; everything anchored verifies', async () => {
    const before = Number(await d.contract.nextAuditPosition());
    await makeAuditEvents(5);
    const outcome = await anchorService().anchorNow();
    assert.ok(outcome.status === 'anchored', JSON.stringify(outcome));
    assert.equal(outcome.fromPosition, before);
    await anchorMirrored(before);
    const report = await verification();
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.anchoredRanges, 2);
    assert.equal(report.verifiedRanges, 2);
    assert.equal(report.anchoredEvents, outcome.toPosition + 1);
    assert.equal(report.firstMismatch, null);
  });

  test('an audit event changed in the event store is named by the verification and by npm run audit:verify', async () => {
    const victim = (await api.eventStore.readStream(AUDIT_STREAM, { fromRevision: 4, maxCount: 1 }))[0]!;
    const db = new Database(path.join(api.dataDir, 'events.sqlite'));
    try {
      const data = { ...(victim.data as Record<string, unknown>), outcome: 'denied', reason: 'rewritten' };
      const changed = db
        .prepare('UPDATE events SET data = ? WHERE stream = ? AND revision = ?')
        .run(JSON.stringify(data), AUDIT_STREAM, 4);
      assert.equal(changed.changes, 1);
    } finally {
      db.close();
    }

    const report = await verification();
    assert.equal(report.ok, false);
    assert.equal(report.verifiedRanges, 0);
    assert.deepEqual(
      {
        position: report.firstMismatch?.position,
        eventId: report.firstMismatch?.eventId,
        fromPosition: report.firstMismatch?.fromPosition,
      },
      { position: 4, eventId: victim.id, fromPosition: 0 },
    );
    assert.match(report.firstMismatch!.reason, /differs from the one anchored/);

    // A proof from the changed range is refused rather than given against a root it no longer meets.
    const proof = await api.get(`/audit/proof/${victim.id}`, auditorToken);
    assert.equal(proof.statusCode, 409, proof.body);
    assert.equal(proof.json<{ code: string }>().code, 'audit_log_mismatch');

    const cli = await verifyCli(
      process.execPath,
      ['-r', '@swc-node/register', path.join(ROOT, 'apps/api/src/anchoring/verify-cli.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_ENV: 'test',
          CUSTOS_DATA_DIR: api.dataDir,
          CHAIN_RPC_URL: anvil.url,
          CONTRACT_ADDRESS: d.address,
          CHAIN_ID: String(ANVIL_CHAIN_ID),
        },
      },
    ).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, new RegExp(`AUDIT LOG MISMATCH at position 4 \\(event ${victim.id}\\)`));
  });
});
