import { provideHttpClient } from '@angular/common/http';
import {
  HttpTestingController,
  type TestRequest,
  provideHttpClientTesting,
} from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { id } from 'ethers';

import { contractInterface } from '../core/contract-abi';
import { CHAIN_POLL_INTERVAL } from '../core/contract-transactions';
import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { FakeChain } from '../testing/chain-fakes';
import {
  PROVIDER_ADDRESS,
  TEST_MNEMONIC,
  allByTestId,
  byTestId,
  nextRequest,
  signInForTest,
  type,
  until,
} from '../testing/test-helpers';
import { type ChainStatus, formatEth } from './admin-api';
import { AdminPage } from './admin-page';
import { CHAIN_STATUS_REFRESH } from './chain-status-panel';

const ADMIN = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

const status = (overrides: Partial<ChainStatus> = {}): ChainStatus => ({
  chainId: 31337,
  contract: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
  headBlock: 1234,
  paused: false,
  mirror: { state: 'live', mirroredBlock: 1233, lagBlocks: 1 },
  relayer: { address: ADMIN.toLowerCase(), balanceWei: '9999500000000000000000' },
  ...overrides,
});

describe('formatEth', () => {
  it('formats wei as ETH with at most four decimals', () => {
    expect(formatEth('9999500000000000000000')).toBe('9,999.5 ETH');
    expect(formatEth('1000000000000000000')).toBe('1 ETH');
    expect(formatEth('123456789000000')).toBe('0.0001 ETH');
    expect(formatEth('0')).toBe('0 ETH');
    expect(formatEth(null)).toBe('unknown');
    expect(formatEth('not a number')).toBe('unknown');
  });
});

describe('AdminPage', () => {
  let fixture: ComponentFixture<AdminPage>;
  let root: HTMLElement;
  let http: HttpTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        { provide: CHAIN_POLL_INTERVAL, useValue: 0 },
        { provide: CHAIN_STATUS_REFRESH, useValue: 0 },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['admin'], ADMIN);
    await TestBed.inject(Wallet).importPhrase(TEST_MNEMONIC, 'a long passphrase', 0);
    fixture = TestBed.createComponent(AdminPage);
    root = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  async function answerLists(provider: 'ok' | 'error' = 'ok'): Promise<void> {
    const requests: TestRequest[] = [];
    await until(() => {
      requests.push(...http.match((r) => r.url === '/directory/accounts'));
      return requests.length >= 4;
    }, 'the four lists');
    for (const request of requests) {
      const role = request.request.params.get('role');
      if (role === 'provider' && provider === 'error') {
        request.flush({ statusCode: 500, message: 'down' }, { status: 500, statusText: 'Error' });
      } else if (role === 'provider') {
        request.flush({
          items: [
            {
              address: PROVIDER_ADDRESS.toLowerCase(),
              roles: ['provider'],
              name: 'Dr Ada Lee',
              specialty: 'Cardiology',
            },
          ],
          nextCursor: null,
        });
      } else if (role === 'admin') {
        request.flush({
          items: [{ address: ADMIN.toLowerCase(), roles: ['admin'], name: null, specialty: null }],
          nextCursor: null,
        });
      } else {
        request.flush({ items: [], nextCursor: null });
      }
    }
    await fixture.whenStable();
  }

  it('shows the chain health, the relayer balance and each role’s accounts', async () => {
    expect(byTestId(root, 'chain-status-loading')).toBeTruthy();
    expect(byTestId(root, 'role-loading-provider')).toBeTruthy();
    (await nextRequest('GET', '/chain/status')).flush(status());
    await answerLists();
    await until(() => !!root.querySelector('[data-testid="chain-status"]'), 'chain status');

    expect(byTestId(root, 'chain-paused').dataset['paused']).toBe('false');
    expect(byTestId(root, 'relayer-balance').textContent).toBe('9,999.5 ETH');
    expect(root.querySelector('[data-testid="relayer-low"]')).toBeNull();
    expect(byTestId(root, 'chain-status').textContent).toContain('1 block behind');

    const providers = allByTestId(root, 'role-row-provider');
    expect(providers).toHaveLength(1);
    expect(providers[0]!.textContent).toContain('Dr Ada Lee');
    expect(providers[0]!.textContent).toContain('Cardiology');
    expect(byTestId(root, 'role-empty-emergency')).toBeTruthy();
    expect(byTestId(root, 'role-empty-auditor')).toBeTruthy();
    const admins = allByTestId(root, 'role-row-admin');
    expect(admins[0]!.textContent).toContain('You');
    // Administrators are listed but not removed from here.
    expect(admins[0]!.querySelector('[data-testid="role-remove"]')).toBeNull();
  });

  it('shows a list that failed to load, and loads it again', async () => {
    (await nextRequest('GET', '/chain/status')).flush(
      status({ relayer: { address: null, balanceWei: '1000' } }),
    );
    await answerLists('error');
    await until(() => !!root.querySelector('[data-testid="role-error-provider"]'), 'error');
    expect(byTestId(root, 'relayer-low')).toBeTruthy();
    byTestId(root, 'role-error-provider-retry').click();
    (await nextRequest('GET', '/directory/accounts')).flush({ items: [], nextCursor: null });
    await until(() => !!root.querySelector('[data-testid="role-empty-provider"]'), 'empty');
  });

  it('pauses Custos after a confirmation, with pause() from the admin’s wallet', async () => {
    (await nextRequest('GET', '/chain/status')).flush(status());
    await answerLists();
    await until(() => !!root.querySelector('[data-testid="pause-button"]'), 'pause button');
    const chain = new FakeChain();

    byTestId(root, 'pause-button').click();
    await fixture.whenStable();
    expect(byTestId<HTMLDialogElement>(root, 'pause-dialog').open).toBe(true);
    byTestId(root, 'pause-dialog-confirm').click();

    const progress = () =>
      root.querySelector<HTMLElement>('[data-testid="action-progress"]')?.dataset['step'];
    await chain.until(() => progress() === 'confirmed', 'confirmed');
    expect(chain.sent).toHaveLength(1);
    expect(chain.sent[0]!.data).toBe(contractInterface.encodeFunctionData('pause', []));

    (await nextRequest('GET', '/chain/status')).flush(status({ paused: true }));
    await until(() => byTestId(root, 'chain-paused').dataset['paused'] === 'true', 'paused');
    await fixture.whenStable();
    expect(byTestId(root, 'unpause-button')).toBeTruthy();
  });

  it('does nothing when the pause is cancelled', async () => {
    (await nextRequest('GET', '/chain/status')).flush(status());
    await answerLists();
    await until(() => !!root.querySelector('[data-testid="pause-button"]'), 'pause button');
    byTestId(root, 'pause-button').click();
    await fixture.whenStable();
    byTestId(root, 'pause-dialog-cancel').click();
    await fixture.whenStable();
    http.expectNone((r) => r.url === '/chain/rpc' || r.url === '/chain/signing-context');
  });

  it('removes a provider with revokeRole after a confirmation, then waits for the list', async () => {
    (await nextRequest('GET', '/chain/status')).flush(status());
    await answerLists();
    await until(() => allByTestId(root, 'role-row-provider').length === 1, 'provider row');
    const chain = new FakeChain();

    byTestId(byTestId(root, 'role-list-provider'), 'role-remove').click();
    await fixture.whenStable();
    byTestId(byTestId(root, 'role-list-provider'), 'remove-dialog-confirm').click();
    const progress = () =>
      byTestId(root, 'role-list-provider').querySelector<HTMLElement>('[data-testid="action-progress"]')
        ?.dataset['step'];
    await chain.until(() => progress() === 'confirmed', 'confirmed');
    const call = contractInterface.parseTransaction({ data: chain.sent[0]!.data })!;
    expect(call.name).toBe('revokeRole');
    expect(call.args[0]).toBe(id('PROVIDER_ROLE'));
    expect(call.args[1]).toBe(PROVIDER_ADDRESS);

    (await nextRequest('GET', '/directory/accounts')).flush({ items: [], nextCursor: null });
    await until(
      () => byTestId(root, 'role-remove-status').dataset['state'] === 'gone',
      'removed from the list',
    );
    expect(allByTestId(root, 'role-row-provider')).toHaveLength(0);
  });

  it('edits a provider’s profile', async () => {
    (await nextRequest('GET', '/chain/status')).flush(status());
    await answerLists();
    await until(() => allByTestId(root, 'role-row-provider').length === 1, 'provider row');
    byTestId(root, 'role-edit').click();
    await fixture.whenStable();
    type(byTestId<HTMLInputElement>(root, 'profile-name'), 'Dr Ada Lovelace');
    byTestId(root, 'profile-save').click();
    const put = await nextRequest('PUT', `/directory/${PROVIDER_ADDRESS.toLowerCase()}/profile`);
    expect(put.request.body).toEqual({ name: 'Dr Ada Lovelace', specialty: 'Cardiology' });
    put.flush({});
    (await nextRequest('GET', '/directory/accounts')).flush({
      items: [
        {
          address: PROVIDER_ADDRESS.toLowerCase(),
          roles: ['provider'],
          name: 'Dr Ada Lovelace',
          specialty: 'Cardiology',
        },
      ],
      nextCursor: null,
    });
    await until(
      () => !!allByTestId(root, 'role-row-provider')[0]?.textContent?.includes('Lovelace'),
      'renamed',
    );
  });
});
