// The mirror against a scripted chain, for what a local node does not do: refuse large log ranges.
// Its behaviour on a real node (anvil) is covered by test/chain/mirror.spec.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NewEvent } from '../../domain/src/index';
import { toBeHex } from 'ethers';
import { categoryId } from './categories';
import { type ChainLog, ChainMirror, type ChainReader, contractInterface, type MirrorSink } from './mirror';

const CONTRACT = '0x00000000000000000000000000000000000000c0';
const PATIENT = '0x00000000000000000000000000000000000000a1';
const PROVIDER = '0x00000000000000000000000000000000000000b1';
const hashOf = (block: number) => toBeHex(block + 1, 32);

/** Blocks 0..20, one AccessGranted in every block; eth_getLogs refuses more than 4 blocks at once. */
function scriptedChain(): ChainReader {
  const fragment = contractInterface.getEvent('AccessGranted')!;
  const logs: ChainLog[] = Array.from({ length: 21 }, (_, block) => {
    const { topics, data } = contractInterface.encodeEventLog(fragment, [
      PATIENT,
      PROVIDER,
      categoryId('general'),
      1_000_000 + block,
    ]);
    return {
      blockNumber: block,
      blockHash: hashOf(block),
      transactionHash: toBeHex(1000 + block, 32),
      index: 0,
      address: CONTRACT,
      topics,
      data,
    };
  });
  return {
    getBlockNumber: async () => 20,
    getBlock: async (n) => (n <= 20 ? { number: n, hash: hashOf(n), timestamp: 1_700_000_000 + n } : null),
    getLogs: async ({ fromBlock, toBlock }) => {
      if (toBlock - fromBlock + 1 > 4) throw new Error('query exceeds max block range 4');
      return logs.filter((log) => log.blockNumber >= fromBlock && log.blockNumber <= toBlock);
    },
  };
}

function memorySink(): MirrorSink & { streams: Map<string, NewEvent[]> } {
  const streams = new Map<string, NewEvent[]>();
  return {
    streams,
    append: async (stream, events) => {
      const existing = streams.get(stream) ?? [];
      for (const event of events) if (!existing.some((e) => e.id === event.id)) existing.push(event);
      streams.set(stream, existing);
    },
    lastEvent: async (stream) => streams.get(stream)?.at(-1),
  };
}

describe('the chain mirror on a node that limits eth_getLogs', () => {
  test('halves its block range until the node accepts it, and mirrors every log once', async () => {
    const sink = memorySink();
    const warnings: string[] = [];
    const mirror = new ChainMirror({
      reader: scriptedChain(),
      sink,
      contract: CONTRACT,
      chainId: 1,
      startBlock: 0,
      logger: { warn: (m) => warnings.push(m) },
    });
    const result = await mirror.poll();
    assert.equal(result.mirroredBlock, 20);
    const consents = sink.streams.get(`consent-${PATIENT}`) ?? [];
    assert.deepEqual(
      consents.map((e) => e.id),
      Array.from({ length: 21 }, (_, block) => `${toBeHex(1000 + block, 32)}:0`),
    );
    assert.deepEqual(consents[3]!.data, {
      patient: PATIENT,
      provider: PROVIDER,
      category: 'general',
      expiresAt: 1_000_003,
    });
    assert.equal(consents[3]!.metadata.occurredAt, new Date((1_700_000_000 + 3) * 1000).toISOString());
    assert.match(warnings.join('\n'), /trying 2$/m);
  });

  test('a node that fails otherwise fails the poll (retried by the loop), without skipping blocks', async () => {
    const chain = scriptedChain();
    let down = true;
    const flaky: ChainReader = {
      ...chain,
      getLogs: (filter) => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : chain.getLogs(filter)),
    };
    const sink = memorySink();
    const mirror = new ChainMirror({
      reader: flaky,
      sink,
      contract: CONTRACT,
      chainId: 1,
      startBlock: 0,
      maxBlockSpan: 4,
    });
    await assert.rejects(mirror.poll(), /ECONNREFUSED/);
    assert.equal(sink.streams.size, 0);
    down = false;
    assert.equal((await mirror.poll()).mirroredBlock, 20);
    assert.equal(sink.streams.get(`consent-${PATIENT}`)?.length, 21);
  });
});
