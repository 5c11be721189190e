/**
 * Gas benchmark: the guide's contract (the baseline) against ours, same scenarios, same run, on Hardhat's
 * in-process network. Run with `npm run bench:gas`. Exits non-zero when one of our targets is missed.
 *
 * The baseline is compiled here from `../shared/reference/SeedHealthRecordAccessControl.sol` (or
 * `SEED_CONTRACT`) with the same compiler and settings as ours; when the file is absent, ours is shown alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import hre from 'hardhat';
import { SOLC_SETTINGS } from '../hardhat.config';
import { consentDomain, consentTypedData, type HealthRecordAccessControl } from '../libs/chain/src';
import type { Signer, TransactionResponse } from 'ethers';

const { ethers } = hre;
const DAY = 24 * 60 * 60;
const SEED_PATH = path.resolve(
  process.env.SEED_CONTRACT ??
    path.join(__dirname, '../../shared/reference/SeedHealthRecordAccessControl.sol'),
);
const WRAPPED_KEY = `0x${'ab'.repeat(128)}`; // the guide stores a 128-byte wrapped key per grant

interface Row {
  scenario: string;
  seed?: bigint;
  ours: bigint;
  /** Our gas must not exceed this. */
  target?: bigint;
}

const category = (name: string) => ethers.id(name);
const sign = (signer: Signer, data: ReturnType<typeof consentTypedData>) =>
  signer.signTypedData(data.domain, data.types, data.message);

async function gasOf(tx: Promise<TransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error('transaction was not mined');
  return receipt.gasUsed;
}

/** Compiles the seed contract with solc-js, resolving OpenZeppelin from node_modules. */
function compileSeed(): { abi: unknown[]; bytecode: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require('solc') as { compile(input: string, callbacks: object): string };
  const input = {
    language: 'Solidity',
    sources: { 'Seed.sol': { content: readFileSync(SEED_PATH, 'utf8') } },
    settings: { ...SOLC_SETTINGS, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const findImports = (importPath: string) => {
    try {
      return { contents: readFileSync(require.resolve(importPath), 'utf8') };
    } catch {
      return { error: `not found: ${importPath}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const contract = output.contracts['Seed.sol']?.['HealthRecordAccessControl'];
  if (!contract) throw new Error('the seed file has no HealthRecordAccessControl contract');
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
}

async function now(): Promise<number> {
  const block = await ethers.provider.getBlock('latest');
  if (!block) throw new Error('no latest block');
  return block.timestamp;
}

async function measureOurs(admin: Signer, patients: Signer[], providers: Signer[]) {
  const factory = await ethers.getContractFactory('HealthRecordAccessControl', admin);
  const deployTx = await factory.getDeployTransaction(3 * DAY, await admin.getAddress());
  const deploy = await gasOf(admin.sendTransaction(deployTx));
  const contract = (await factory.deploy(
    3 * DAY,
    await admin.getAddress(),
  )) as unknown as HealthRecordAccessControl;
  await contract.waitForDeployment();
  const providerRole = await contract.PROVIDER_ROLE();
  for (const provider of providers) await (await contract.grantRole(providerRole, provider)).wait();

  const [patientA, patientB, patientC, patientD] = patients as [Signer, Signer, Signer, Signer];
  const [provider] = providers as [Signer];
  const providerAddress = await provider.getAddress();
  const expiresAt = () => now().then((t) => t + 30 * DAY);

  // Revokes below use the same calldata after 1 and after 50 grants, so any difference is storage work.
  const revokedCategory = category('category_25');
  const grant = await gasOf(
    contract.connect(patientA).grantAccess(providerAddress, revokedCategory, await expiresAt()),
  );

  // Relayed grant, first use of the patient's nonce.
  const domain = consentDomain((await ethers.provider.getNetwork()).chainId, await contract.getAddress());
  const deadline = (await now()) + DAY;
  const grantValue = {
    patient: await patientB.getAddress(),
    provider: providerAddress,
    category: category('lab_results'),
    expiresAt: await expiresAt(),
    nonce: 0n,
    deadline,
  };
  const grantSig = await sign(patientB, consentTypedData('Grant', domain, grantValue));
  const grantWithSig = await gasOf(
    contract
      .connect(admin)
      .grantAccessWithSig(
        grantValue.patient,
        grantValue.provider,
        grantValue.category,
        grantValue.expiresAt,
        deadline,
        grantSig,
      ),
  );

  // One signature, ten grants (ten categories for one provider: a typical "share my records" consent).
  const items = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => ({
      provider: providerAddress,
      category: category(`category_${i}`),
      expiresAt: await expiresAt(),
    })),
  );
  const batchValue = { patient: await patientC.getAddress(), items, nonce: 0n, deadline };
  const batchSig = await sign(patientC, consentTypedData('GrantBatch', domain, batchValue));
  const batch = await gasOf(
    contract.connect(admin).grantAccessBatchWithSig(batchValue.patient, items, deadline, batchSig),
  );

  // Revoke after 1 grant (patient A) and after 50 grants (patient D).
  const revokeAfter1 = await gasOf(contract.connect(patientA).revokeAccess(providerAddress, revokedCategory));
  // The same view, same arguments, after 1 and after 50 grants of the patient.
  const patientDAddress = await patientD.getAddress();
  const viewOf = () =>
    contract.hasActiveAccess.estimateGas(patientDAddress, providerAddress, category('category_0'));
  let viewAfter1 = 0n;
  for (let i = 0; i < 50; i++) {
    await (
      await contract
        .connect(patientD)
        .grantAccess(providerAddress, category(`category_${i}`), await expiresAt())
    ).wait();
    if (i === 0) viewAfter1 = await viewOf();
  }
  const viewAfter50 = await viewOf();
  const revokeAfter50 = await gasOf(
    contract.connect(patientD).revokeAccess(providerAddress, revokedCategory),
  );

  // Record access: the provider logs a view of a lab_results record it may see.
  const recordId = ethers.id('bafy-record-1');
  await (
    await contract.connect(patientD).registerRecord(recordId, category('category_0'), ethers.ZeroHash)
  ).wait();
  const logAccess = await gasOf(
    contract.connect(provider).logAccess(patientDAddress, recordId, ethers.id('view')),
  );

  return {
    deploy,
    grant,
    grantWithSig,
    batch,
    revokeAfter1,
    revokeAfter50,
    logAccess,
    viewAfter1,
    viewAfter50,
  };
}

async function measureSeed(admin: Signer, patients: Signer[], providers: Signer[]) {
  const { abi, bytecode } = compileSeed();
  const factory = new ethers.ContractFactory(abi as never, bytecode, admin);
  const deploy = await gasOf(admin.sendTransaction(await factory.getDeployTransaction()));
  const seed = (await factory.deploy()) as unknown as {
    [name: string]: (...args: unknown[]) => Promise<TransactionResponse>;
  } & {
    connect(signer: Signer): typeof seed;
    hasActiveAccess: { estimateGas(...a: unknown[]): Promise<bigint> };
  };
  await (seed as unknown as { waitForDeployment(): Promise<unknown> }).waitForDeployment();
  for (const provider of providers) await (await seed.registerProvider!(await provider.getAddress())).wait();

  const [patientA, , , patientD] = patients as [Signer, Signer, Signer, Signer];
  const [provider] = providers as [Signer];
  const providerAddress = await provider.getAddress();

  const grant = await gasOf(
    seed.connect(patientA).grantAccess!(
      providerAddress,
      'lab_results',
      30 * DAY,
      WRAPPED_KEY,
      'bafy-record-0',
    ),
  );
  const revokeAfter1 = await gasOf(seed.connect(patientA).revokeAccess!(providerAddress, 'lab_results'));
  const patientDAddress = await patientD.getAddress();
  // The seed's view loops over the patient's grants until one matches: its cost grows with their history.
  const viewOf = (recordHash: string) =>
    seed.hasActiveAccess.estimateGas(patientDAddress, providerAddress, recordHash);
  let viewAfter1 = 0n;
  for (let i = 0; i < 50; i++) {
    await (
      await seed.connect(patientD).grantAccess!(
        providerAddress,
        `category_${i}`,
        30 * DAY,
        WRAPPED_KEY,
        `bafy-${i}`,
      )
    ).wait();
    if (i === 0) viewAfter1 = await viewOf('bafy-0');
  }
  const viewAfter50 = await viewOf('bafy-49');
  const revokeAfter50 = await gasOf(seed.connect(patientD).revokeAccess!(providerAddress, 'category_25'));
  const logAccess = await gasOf(seed.connect(provider).accessRecord!(patientDAddress, 'bafy-0', 'view'));
  return { deploy, grant, revokeAfter1, revokeAfter50, logAccess, viewAfter1, viewAfter50 };
}

function table(rows: Row[]): string {
  const fmt = (n?: bigint) => (n === undefined ? '—' : n.toLocaleString('en-US'));
  const header = ['scenario', 'seed gas', 'ours gas', 'ours/seed', 'target (ours)', 'result'];
  const body = rows.map((r) => {
    const ratio = r.seed ? (Number(r.ours) / Number(r.seed)).toFixed(3) : '—';
    const result = r.target === undefined ? '' : r.ours <= r.target ? 'PASS' : 'FAIL';
    return [r.scenario, fmt(r.seed), fmt(r.ours), ratio, r.target ? `≤ ${fmt(r.target)}` : '', result];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main() {
  const [admin, ...rest] = await ethers.getSigners();
  if (!admin) throw new Error('no signers');
  const patients = rest.slice(0, 4);
  const providers = rest.slice(4, 6);

  const ours = await measureOurs(admin, patients, providers);
  const seedPresent = existsSync(SEED_PATH);
  if (!seedPresent) console.log(`Seed contract not found at ${SEED_PATH}: showing ours alone.\n`);
  const seed = seedPresent ? await measureSeed(admin, patients, providers) : undefined;

  const rows: Row[] = [
    { scenario: 'deploy', seed: seed?.deploy, ours: ours.deploy },
    { scenario: 'grantAccess, fresh slot', seed: seed?.grant, ours: ours.grant, target: 60_000n },
    {
      scenario: 'grantAccessWithSig, first nonce',
      seed: seed?.grant,
      ours: ours.grantWithSig,
      target: 85_000n,
    },
    {
      scenario: 'grantAccessBatchWithSig ×10, per grant',
      seed: seed?.grant,
      ours: ours.batch / 10n,
      target: 40_000n,
    },
    {
      scenario: 'revokeAccess after 1 grant',
      seed: seed?.revokeAfter1,
      ours: ours.revokeAfter1,
      target: 35_000n,
    },
    {
      scenario: 'revokeAccess after 50 grants',
      seed: seed?.revokeAfter50,
      ours: ours.revokeAfter50,
      target: 35_000n,
    },
    { scenario: 'record access (logAccess)', seed: seed?.logAccess, ours: ours.logAccess, target: 40_000n },
    { scenario: 'hasActiveAccess after 1 grant (call)', seed: seed?.viewAfter1, ours: ours.viewAfter1 },
    { scenario: 'hasActiveAccess after 50 grants (call)', seed: seed?.viewAfter50, ours: ours.viewAfter50 },
  ];
  console.log(table(rows));
  console.log(
    '\nSeed grants carry a 128-byte wrapped key, as in the guide; the seed has no signature or batch path, so those rows compare with its plain grant.',
  );

  const failures = rows.filter((r) => r.target !== undefined && r.ours > r.target).map((r) => r.scenario);
  // A view whose cost grows with the number of grants would fail the "constant" target.
  if (ours.viewAfter50 !== ours.viewAfter1) failures.push('hasActiveAccess constant in the number of grants');
  if (ours.revokeAfter50 !== ours.revokeAfter1) failures.push('revokeAccess the same after 1 or 50 grants');
  if (failures.length > 0) {
    console.error(`\nTargets missed: ${failures.join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nAll gas targets met.');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
