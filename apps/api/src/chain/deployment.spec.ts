import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { getAddress } from 'ethers';
import { loadConfig } from '../config/load-config';
import { deploymentFile, resolveDeployment } from './deployment';

const SAVED = getAddress('0x5fbdb2315678afecb367f032d93f642f64180aa3');
const OTHER = getAddress('0xe7f1725e7734ce288f8367e1bb143e90bb3f0512');

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function dataDir(saved?: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-deployment-'));
  dirs.push(dir);
  if (saved !== undefined) {
    mkdirSync(path.join(dir, 'chain'));
    writeFileSync(deploymentFile(dir), typeof saved === 'string' ? saved : JSON.stringify(saved));
  }
  return dir;
}

const resolve = (dir: string, env: Record<string, string> = {}) =>
  resolveDeployment(loadConfig({ CUSTOS_DATA_DIR: dir, ...env }));

describe('which contract the API mirrors', () => {
  test('none without CONTRACT_ADDRESS or a saved deployment', () => {
    assert.deepEqual(resolve(dataDir()), { deployment: null, warnings: [] });
  });

  test('the address and deployment block npm start saved', () => {
    const dir = dataDir({ chainId: 31337, address: SAVED, deployBlock: 1, deployTxHash: '0x01' });
    assert.deepEqual(resolve(dir).deployment, {
      address: SAVED.toLowerCase(),
      deployBlock: 1,
      source: 'deployment.json',
    });
  });

  test('CONTRACT_ADDRESS wins; the saved block is used only when it is about the same contract', () => {
    const dir = dataDir({ chainId: 31337, address: SAVED, deployBlock: 7 });
    assert.deepEqual(resolve(dir, { CONTRACT_ADDRESS: SAVED }).deployment, {
      address: SAVED.toLowerCase(),
      deployBlock: 7,
      source: 'CONTRACT_ADDRESS',
    });
    assert.deepEqual(resolve(dir, { CONTRACT_ADDRESS: OTHER }).deployment, {
      address: OTHER.toLowerCase(),
      source: 'CONTRACT_ADDRESS',
    });
  });

  test('a deployment saved for another chain, or unreadable, is ignored with a warning', () => {
    const elsewhere = resolve(dataDir({ chainId: 1, address: SAVED, deployBlock: 7 }));
    assert.equal(elsewhere.deployment, null);
    assert.match(elsewhere.warnings.join(), /chain 1, but CHAIN_ID is 31337/);
    const broken = resolve(dataDir('{not json'));
    assert.equal(broken.deployment, null);
    assert.match(broken.warnings.join(), /not valid JSON/);
  });
});
