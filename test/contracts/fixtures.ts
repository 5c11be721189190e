/**
 * Shared fixture and EIP-712 helpers for the HealthRecordAccessControl test suites.
 *
 * The fixture deploys the contract with an admin, two providers, an emergency staff member, an anchor
 * account and an auditor, and names every other account a test needs (patients, a relayer, an outsider).
 */
import { ethers } from 'hardhat';
import { loadFixture, time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import type { HardhatEthersSigner } from '@nomicfoundation/hardhat-ethers/signers';
import type { Signer, TypedDataDomain } from 'ethers';
import { type ConsentPrimaryType, consentTypedData } from '../../libs/chain/src';
export type { GrantItem, GrantMessage } from '../../libs/chain/src';
import type { HealthRecordAccessControl } from '../../libs/chain/src/typechain';

export const DAY = 24 * 60 * 60;
export const YEAR = 365 * DAY;
/** Delay before a scheduled admin transfer can be accepted. */
export const ADMIN_DELAY = 3 * DAY;

/** Category ids are keccak256 of the category name; names never reach the chain. */
export const category = (name: string): string => ethers.id(name);
export const LAB_RESULTS = category('lab_results');
export const IMAGING = category('imaging');
export const PRESCRIPTIONS = category('prescriptions');

export const ROLES = {
  DEFAULT_ADMIN: ethers.ZeroHash,
  PROVIDER: ethers.id('PROVIDER_ROLE'),
  EMERGENCY: ethers.id('EMERGENCY_ROLE'),
  AUDITOR: ethers.id('AUDITOR_ROLE'),
  ANCHOR: ethers.id('ANCHOR_ROLE'),
} as const;

/** A record id: in Custos, a hash of the encrypted blob's content address. */
export const recordId = (label: string): string => ethers.id(`record:${label}`);
export const action = (name: string): string => ethers.id(name);

export async function deployContract(admin: Signer, delay: number = ADMIN_DELAY) {
  const factory = await ethers.getContractFactory('HealthRecordAccessControl', admin);
  const contract: HealthRecordAccessControl = await factory.deploy(delay, await admin.getAddress());
  await contract.waitForDeployment();
  return contract;
}

export async function deployFixture() {
  const signers = await ethers.getSigners();
  const at = (index: number): HardhatEthersSigner => {
    const signer = signers[index];
    if (!signer) throw new Error(`the fixture needs Hardhat account #${index}`);
    return signer;
  };
  const admin = at(0);
  const patient = at(1);
  const otherPatient = at(2);
  const provider = at(3);
  const provider2 = at(4);
  const emergency = at(5);
  const anchor = at(6);
  const auditor = at(7);
  const relayer = at(8);
  const outsider = at(9);
  const newAdmin = at(10);
  const contract = await deployContract(admin);
  await contract.connect(admin).grantRole(ROLES.PROVIDER, provider.address);
  await contract.connect(admin).grantRole(ROLES.PROVIDER, provider2.address);
  await contract.connect(admin).grantRole(ROLES.EMERGENCY, emergency.address);
  await contract.connect(admin).grantRole(ROLES.ANCHOR, anchor.address);
  await contract.connect(admin).grantRole(ROLES.AUDITOR, auditor.address);
  const domain = await domainOf(contract);
  return {
    contract,
    domain,
    admin,
    patient,
    otherPatient,
    provider,
    provider2,
    emergency,
    anchor,
    auditor,
    relayer,
    outsider,
    newAdmin,
  };
}

export type Fixture = Awaited<ReturnType<typeof deployFixture>>;

/** Deploys an ERC-1271 smart account owned by `owner` (test-only contract). */
export async function deployWallet(owner: HardhatEthersSigner) {
  const factory = await ethers.getContractFactory('MockERC1271Wallet', owner);
  const wallet = await factory.deploy(owner.address);
  await wallet.waitForDeployment();
  return wallet;
}

// ---------------------------------------------------------------------------------------------- time

/**
 * `loadFixture`, then realigns Hardhat's clock with the restored chain. After `evm_revert` Hardhat
 * stamps the next block with the wall-clock time elapsed since the snapshot was taken (seconds to
 * minutes into the suite), which would make any margin counted in seconds flaky. Mining one block
 * at `latest + 1` resets that offset, so every test starts with blocks one second apart.
 */
export async function load<T>(fixture: () => Promise<T>): Promise<T> {
  const deployed = await loadFixture(fixture);
  await time.increaseTo((await time.latest()) + 1);
  return deployed;
}

/**
 * Makes the next mined block carry exactly `timestamp`, so a test knows the contract's `block.timestamp`.
 */
export async function atNextBlock(timestamp: number): Promise<number> {
  await time.setNextBlockTimestamp(timestamp);
  return timestamp;
}

/** Mines one block at exactly `timestamp`; views called afterwards run on that block's timestamp. */
export async function mineAt(timestamp: number): Promise<void> {
  await time.increaseTo(timestamp);
}

/** The timestamp of the block that mined a transaction. */
export async function minedAt(tx: { wait(): Promise<{ blockNumber: number } | null> }): Promise<number> {
  const receipt = await tx.wait();
  if (!receipt) throw new Error('transaction was not mined');
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (!block) throw new Error('block not found');
  return block.timestamp;
}

// ---------------------------------------------------------------------------------------------- EIP-712

export async function domainOf(contract: HealthRecordAccessControl): Promise<TypedDataDomain> {
  const d = await contract.eip712Domain();
  return { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract };
}

/** The domain as the issue specifies it, computed independently of the contract's `eip712Domain()`. */
export async function specDomain(verifyingContract: string): Promise<TypedDataDomain> {
  return {
    name: 'HealthRecordAccessControl',
    version: '2',
    chainId: (await ethers.provider.getNetwork()).chainId,
    verifyingContract,
  };
}

// Signatures are built with libs/chain's typed data, the one implementation the API and web app use;
// deployment-and-admin.test.ts checks its type strings against the spelling.
function signWith<T extends ConsentPrimaryType>(primaryType: T) {
  return (signer: Signer, domain: TypedDataDomain, value: Parameters<typeof consentTypedData<T>>[2]) => {
    const data = consentTypedData(primaryType, domain, value);
    return signer.signTypedData(data.domain, data.types, data.message);
  };
}

export const signGrant = signWith('Grant');
export const signGrantBatch = signWith('GrantBatch');
export const signRevoke = signWith('Revoke');
export const signRegisterRecord = signWith('RegisterRecord');
