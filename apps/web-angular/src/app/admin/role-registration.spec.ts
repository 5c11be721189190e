import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { id } from 'ethers';

import { contractInterface } from '../core/contract-abi';
import { CHAIN_POLL_INTERVAL } from '../core/contract-transactions';
import { Wallet } from '../core/wallet';
import { MemoryWalletStore, WalletStore } from '../core/wallet-vault';
import { FakeChain } from '../testing/chain-fakes';
import {
  CHAIN_ID,
  CONTRACT,
  TEST_MNEMONIC,
  byTestId,
  nextRequest,
  signInForTest,
  type,
  until,
} from '../testing/test-helpers';
import { RoleDirectory } from './role-directory';
import { RoleRegistration } from './role-registration';

/** Development account #0, the demo admin. */
const ADMIN = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const NEW_AUDITOR = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65';
const PASSPHRASE = 'a long passphrase';

describe('RoleRegistration', () => {
  let fixture: ComponentFixture<RoleRegistration>;
  let root: HTMLElement;
  let http: HttpTestingController;

  async function setUp(options: { unlocked?: boolean } = {}): Promise<void> {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        RoleDirectory,
        { provide: WalletStore, useValue: new MemoryWalletStore() },
        { provide: CHAIN_POLL_INTERVAL, useValue: 0 },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['admin'], ADMIN);
    const wallet = TestBed.inject(Wallet);
    await wallet.importPhrase(TEST_MNEMONIC, PASSPHRASE, 0);
    if (options.unlocked === false) wallet.lock();
    fixture = TestBed.createComponent(RoleRegistration);
    root = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  }

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  function fill(role: string, account: string, name = '', specialty = ''): void {
    const select = byTestId<HTMLSelectElement>(root, 'admin-role-select');
    select.value = role;
    select.dispatchEvent(new Event('change'));
    type(byTestId<HTMLInputElement>(root, 'admin-account-input'), account);
    type(byTestId<HTMLInputElement>(root, 'admin-name-input'), name);
    type(byTestId<HTMLInputElement>(root, 'admin-specialty-input'), specialty);
  }

  const step = () => root.querySelector<HTMLElement>('[data-testid="action-progress"]')?.dataset['step'];

  it('signs grantRole(AUDITOR_ROLE, account) with the admin’s own key, sends it via /chain/rpc, then saves the profile', async () => {
    await setUp();
    const chain = new FakeChain();
    fill('auditor', NEW_AUDITOR.toLowerCase(), 'Grace Hopper', 'Compliance');
    byTestId(root, 'admin-register-button').click();

    await chain.until(() => step() === 'confirmed' || step() === 'failed', 'the transaction');
    await fixture.whenStable();
    expect(step()).toBe('confirmed');

    // The transaction: the admin's own, to the contract, on our chain, calling grantRole.
    expect(chain.sent).toHaveLength(1);
    const tx = chain.sent[0]!;
    expect(tx.from).toBe(ADMIN);
    expect(tx.to?.toLowerCase()).toBe(CONTRACT);
    expect(tx.chainId).toBe(BigInt(CHAIN_ID));
    expect(tx.type).toBe(2);
    expect(tx.nonce).toBe(7);
    expect(tx.gasLimit).toBe(72_000n); // the estimate plus 20 %
    expect(tx.maxFeePerGas).toBe(4_000_000_000n);
    expect(tx.maxPriorityFeePerGas).toBe(1_000_000_000n);
    const call = contractInterface.parseTransaction({ data: tx.data })!;
    expect(call.name).toBe('grantRole');
    expect(call.args[0]).toBe(id('AUDITOR_ROLE'));
    expect(call.args[1]).toBe(NEW_AUDITOR);
    expect(tx.data).toBe(
      contractInterface.encodeFunctionData('grantRole', [id('AUDITOR_ROLE'), NEW_AUDITOR]),
    );
    // Dry run first, then nonce and fees, then the signed transaction, then its receipt.
    expect(chain.methods()[0]).toBe('eth_estimateGas');
    expect(chain.methods()).toContain('eth_sendRawTransaction');
    expect(chain.methods().at(-1)).toBe('eth_getTransactionReceipt');

    // The list is polled until the chain mirror shows the account, then the profile is saved.
    expect(byTestId(root, 'admin-register-status').dataset['state']).toBe('waiting');
    const first = await nextRequest('GET', '/directory/accounts');
    expect(first.request.params.get('role')).toBe('auditor');
    first.flush({ items: [], nextCursor: null });
    (await nextRequest('GET', '/directory/accounts')).flush({
      items: [{ address: NEW_AUDITOR.toLowerCase(), roles: ['auditor'], name: null, specialty: null }],
      nextCursor: null,
    });
    const profile = await nextRequest('PUT', `/directory/${NEW_AUDITOR.toLowerCase()}/profile`);
    expect(profile.request.body).toEqual({ name: 'Grace Hopper', specialty: 'Compliance' });
    profile.flush({ address: NEW_AUDITOR.toLowerCase(), name: 'Grace Hopper', specialty: 'Compliance' });
    (await nextRequest('GET', '/directory/accounts')).flush({
      items: [
        {
          address: NEW_AUDITOR.toLowerCase(),
          roles: ['auditor'],
          name: 'Grace Hopper',
          specialty: 'Compliance',
        },
      ],
      nextCursor: null,
    });
    await until(
      () => byTestId(root, 'admin-register-status').dataset['state'] === 'profile-saved',
      'profile saved',
    );
    await fixture.whenStable();
    expect(byTestId<HTMLInputElement>(root, 'admin-account-input').value).toBe('');
  });

  it('reports the contract’s refusal in words, and signs nothing', async () => {
    await setUp();
    const chain = new FakeChain({
      estimateRevert: contractInterface.encodeErrorResult('AccessControlUnauthorizedAccount', [
        ADMIN,
        '0x' + '00'.repeat(32),
      ]),
    });
    fill('provider', NEW_AUDITOR);
    byTestId(root, 'admin-register-button').click();
    await chain.until(() => step() === 'failed', 'the refusal');
    await fixture.whenStable();
    expect(byTestId(root, 'action-progress-reason').textContent).toContain(
      'does not hold the administrator role',
    );
    expect(chain.sent).toHaveLength(0);
    expect(chain.methods()).toEqual(['eth_estimateGas']);
  });

  it('checks the address before anything else', async () => {
    await setUp();
    fill('provider', '0x1234');
    byTestId(root, 'admin-register-button').click();
    await fixture.whenStable();
    expect(byTestId(root, 'admin-register-error').textContent).toContain('0x and 40 hex digits');
    http.expectNone(() => true);
  });

  it('asks for the passphrase when the built-in wallet is locked', async () => {
    await setUp({ unlocked: false });
    fill('provider', NEW_AUDITOR);
    byTestId(root, 'admin-register-button').click();
    await fixture.whenStable();
    await until(() => !!root.querySelector('[data-testid="admin-register-error"]'), 'the error');
    expect(byTestId(root, 'admin-register-error').textContent).toContain('Enter your passphrase');

    type(byTestId<HTMLInputElement>(root, 'admin-passphrase'), 'wrong passphrase');
    byTestId(root, 'admin-register-button').click();
    await until(
      () => !!byTestId(root, 'admin-register-error').textContent?.includes('not right'),
      'wrong passphrase',
    );

    const chain = new FakeChain();
    type(byTestId<HTMLInputElement>(root, 'admin-passphrase'), PASSPHRASE);
    byTestId(root, 'admin-register-button').click();
    await chain.until(() => step() === 'confirmed', 'the transaction');
    expect(chain.sent).toHaveLength(1);
    (await nextRequest('GET', '/directory/accounts')).flush({
      items: [{ address: NEW_AUDITOR.toLowerCase(), roles: ['provider'], name: null, specialty: null }],
      nextCursor: null,
    });
    await until(() => byTestId(root, 'admin-register-status').dataset['state'] === 'listed', 'listed');
  });
});
