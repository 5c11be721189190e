import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import type { ActionProgress } from '../shared/action-progress';
import { FakeChain } from '../testing/chain-fakes';
import { CONTRACT, signInForTest } from '../testing/test-helpers';
import { contractInterface } from './contract-abi';
import { CHAIN_POLL_INTERVAL, ContractTransactions } from './contract-transactions';
import { type Eip1193Provider, INJECTED_PROVIDER, Wallet } from './wallet';
import { MemoryWalletStore, WalletStore } from './wallet-vault';

const ADMIN = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const HASH = `0x${'12'.repeat(32)}`;

describe('ContractTransactions with a wallet extension (EIP-1193)', () => {
  let requests: { method: string; params?: unknown }[];
  let chainId: string;

  beforeEach(async () => {
    requests = [];
    chainId = '0x1';
    const extension: Eip1193Provider = {
      request: async ({ method, params }) => {
        requests.push({ method, params });
        switch (method) {
          case 'eth_requestAccounts':
          case 'eth_accounts':
            return [ADMIN.toLowerCase()];
          case 'eth_chainId':
            return chainId;
          case 'wallet_switchEthereumChain':
            chainId = (params as [{ chainId: string }])[0].chainId;
            return null;
          case 'eth_sendTransaction':
            return HASH;
          default:
            throw new Error(`unexpected ${method}`);
        }
      },
    };
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        { provide: INJECTED_PROVIDER, useValue: () => extension },
        { provide: CHAIN_POLL_INTERVAL, useValue: 0 },
      ],
    });
    await signInForTest(['admin'], ADMIN);
    await TestBed.inject(Wallet).connectExtension();
  });

  afterEach(() => {
    TestBed.inject(HttpTestingController).verify();
    sessionStorage.clear();
  });

  it('dry-runs through the gateway, sends with eth_sendTransaction on the Custos chain, and follows the receipt', async () => {
    const chain = new FakeChain();
    chain.mined.add(HASH);
    const steps: ActionProgress['step'][] = [];
    const sending = TestBed.inject(ContractTransactions).send(
      (abi) => abi.pauseData(true),
      (p) => steps.push(p.step),
    );
    let receipt: unknown;
    void sending.then((r) => (receipt = r));
    await chain.until(() => receipt !== undefined, 'the receipt');

    expect(receipt).toMatchObject({ transactionHash: HASH, status: '0x1' });
    expect(steps).toEqual(['signing', 'signed', 'sent', 'confirmed']);
    expect(chain.methods()).toEqual(['eth_estimateGas', 'eth_getTransactionReceipt']);
    expect(chain.sent).toHaveLength(0); // nothing signed in the page
    const switched = requests.find((r) => r.method === 'wallet_switchEthereumChain');
    expect(switched?.params).toEqual([{ chainId: '0x7a69' }]);
    const sent = requests.find((r) => r.method === 'eth_sendTransaction');
    expect(sent?.params).toEqual([
      { from: ADMIN, to: CONTRACT, data: contractInterface.encodeFunctionData('pause', []), gas: '0x11940' },
    ]);
  });
});
