// The contract side of `npm start`: deploys HealthRecordAccessControl on first run and records it in
// <CUSTOS_DATA_DIR>/chain/deployment.json, checks on later runs that the chain still holds it,
// gives the relayer ANCHOR_ROLE, and registers the demo accounts (`npm start -- --demo`).
'use strict';
const { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { shown } = require('./local-chain.cjs');
const {
  ContractFactory,
  Contract,
  HDNodeWallet,
  JsonRpcProvider,
  Wallet,
  getAddress,
  id,
} = require('ethers');

/** The well-known mnemonic of anvil's and Hardhat's development accounts: its keys are public. */
const DEVELOPMENT_MNEMONIC = 'test test test test test test test test test test test junk';
/** Delay before a scheduled transfer of the admin role can be accepted (AccessControlDefaultAdminRules). */
const ADMIN_DELAY_SECONDS = 24 * 60 * 60;
const ARTIFACT = path.resolve(
  __dirname,
  '../artifacts/contracts/HealthRecordAccessControl.sol/HealthRecordAccessControl.json',
);

const ROLES = {
  PROVIDER_ROLE: id('PROVIDER_ROLE'),
  EMERGENCY_ROLE: id('EMERGENCY_ROLE'),
  AUDITOR_ROLE: id('AUDITOR_ROLE'),
  ANCHOR_ROLE: id('ANCHOR_ROLE'),
};

/**
 * The demo accounts: development accounts #1 to #5 of the well-known mnemonic (anvil funds them).
 * Account #0 is the admin and the relayer.
 */
const DEMO_ACCOUNTS = [
  { index: 1, label: 'provider', role: 'PROVIDER_ROLE' },
  { index: 2, label: 'provider', role: 'PROVIDER_ROLE' },
  { index: 3, label: 'emergency staff', role: 'EMERGENCY_ROLE' },
  { index: 4, label: 'auditor', role: 'AUDITOR_ROLE' },
  { index: 5, label: 'patient', role: undefined },
];

/** A problem the user has to solve; start.cjs prints the message and exits 1. */
class StartError extends Error {}

/** Development account `index` of DEVELOPMENT_MNEMONIC (address and public private key). */
function developmentAccount(index) {
  return HDNodeWallet.fromPhrase(DEVELOPMENT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
}

function readArtifact() {
  if (!existsSync(ARTIFACT)) {
    throw new StartError(`${shown(ARTIFACT)} is missing: run \`npm run build:contracts\``);
  }
  const { abi, bytecode } = JSON.parse(readFileSync(ARTIFACT, 'utf8'));
  return { abi, bytecode };
}

function writeJsonAtomically(file, value) {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, file);
}

/** Why `address` is not a usable HealthRecordAccessControl on the chain, or undefined when it is. */
async function contractProblem(provider, abi, address) {
  const code = await provider.getCode(address);
  if (code === '0x') return 'no-code';
  try {
    const providerRole = await new Contract(address, abi, provider).PROVIDER_ROLE();
    if (providerRole === ROLES.PROVIDER_ROLE) return undefined;
  } catch {
    // not our contract
  }
  return 'not-ours';
}

/**
 * The account that may grant roles: the relayer or development account #0 when one of them is the
 * admin, otherwise (on the local anvil only) the admin impersonated. Undefined when no signer is
 * available for the admin.
 */
async function adminSigner(provider, admin, relayer, local) {
  const dev0 = developmentAccount(0).connect(provider);
  for (const wallet of [relayer, dev0]) if (wallet.address === admin) return wallet;
  if (!local) return undefined;
  await provider.send('anvil_impersonateAccount', [admin]);
  await fund(provider, admin);
  const signer = await provider.getSigner(admin);
  signer.release = () => provider.send('anvil_stopImpersonatingAccount', [admin]);
  return signer;
}

/** On the local anvil: gives `address` 10,000 ETH when it has less than 1 ETH. */
async function fund(provider, address) {
  if ((await provider.getBalance(address)) >= 10n ** 18n) return;
  await provider.send('anvil_setBalance', [address, `0x${(10_000n * 10n ** 18n).toString(16)}`]);
}

/** Grants `role` to `account` unless it holds it already; true when a transaction was sent. */
async function ensureRole(contract, signer, role, account) {
  if (await contract.hasRole(ROLES[role], account)) return false;
  const tx = await contract.connect(signer).grantRole(ROLES[role], account);
  const receipt = await tx.wait();
  if (receipt.status !== 1) throw new Error(`grantRole(${role}, ${account}) failed in ${tx.hash}`);
  return true;
}

/**
 * Makes sure a HealthRecordAccessControl is on the chain at `url` and returns its address:
 * - `contractAddress` given (CONTRACT_ADDRESS): checks that it is there; deploys nothing;
 * - otherwise the one in <dataDir>/chain/deployment.json, checked the same way;
 * - otherwise deploys one from the relayer account and writes deployment.json.
 * Then gives the relayer ANCHOR_ROLE when it lacks it and an admin signer is at hand, and with
 * `demo` registers the demo accounts. `local`: the chain is the anvil npm start runs (accounts can
 * be funded and impersonated). `log` prints one line.
 */
async function prepareContract({
  url,
  shownUrl = url,
  chainId,
  dataDir,
  stateFile,
  local,
  contractAddress,
  relayerKey,
  adminAddress,
  demo,
  log,
}) {
  const { abi, bytecode } = readArtifact();
  const deploymentFile = path.join(dataDir, 'chain', 'deployment.json');
  const provider = new JsonRpcProvider(url, chainId, {
    staticNetwork: true,
    pollingInterval: 200,
    // No cached answers: the nonce of consecutive transactions must be read afresh each time.
    cacheTimeout: -1,
  });
  try {
    const relayer = new Wallet(relayerKey, provider);
    if (local) await fund(provider, relayer.address);
    let address;
    let deployment;

    if (contractAddress) {
      address = getAddress(contractAddress);
      const problem = await contractProblem(provider, abi, address);
      if (problem) {
        throw new StartError(
          `CONTRACT_ADDRESS is ${address}, but the chain at ${shownUrl} ${
            problem === 'no-code'
              ? 'has no contract there'
              : 'has a contract there that is not a HealthRecordAccessControl'
          }. Check CONTRACT_ADDRESS and CHAIN_RPC_URL, or leave CONTRACT_ADDRESS unset to let npm start deploy one (and remember it in ${shown(deploymentFile)}).`,
        );
      }
      log(`contract ${address} (CONTRACT_ADDRESS) is on the chain`);
    } else if (existsSync(deploymentFile)) {
      deployment = readDeployment(deploymentFile);
      address = deployment.address;
      if (deployment.chainId !== chainId) {
        throw new StartError(
          `${shown(deploymentFile)} records contract ${address} on chain id ${deployment.chainId}, but the chain at ${shownUrl} is chain id ${chainId}. ` +
            `Point CHAIN_RPC_URL (and CHAIN_ID) at the chain the contract is on, or delete ${shown(deploymentFile)} to deploy a new contract there (the consents recorded on the old chain stay behind).`,
        );
      }
      const problem = await contractProblem(provider, abi, address);
      if (problem === 'no-code') {
        const cause = local
          ? `the chain state was reset (${shown(stateFile)} was deleted or replaced)`
          : 'the chain was reset, or CHAIN_RPC_URL points at another chain';
        const restore =
          local && existsSync(`${stateFile}.bak`)
            ? ` If the state file was damaged, ${shown(`${stateFile}.bak`)} is the last state the chain loaded: stop, copy it over ${shown(stateFile)} and start again.`
            : '';
        throw new StartError(
          `the chain at ${shownUrl} has no contract at ${address} saved in ${shown(deploymentFile)}: ${cause}. ` +
            `Delete ${shown(deploymentFile)} to deploy a new contract, which loses the on-chain consents (to start over completely, delete the whole data folder ${shown(dataDir)}).${restore}`,
        );
      }
      if (problem === 'not-ours') {
        throw new StartError(
          `the contract at ${address} saved in ${shown(deploymentFile)} is not a HealthRecordAccessControl on the chain at ${shownUrl}: the chain was reset and something else was deployed there. ` +
            `Delete ${shown(deploymentFile)} to deploy a new contract, which loses the on-chain consents.`,
        );
      }
      log(`contract ${address} (deployed at block ${deployment.deployBlock}, ${shown(deploymentFile)})`);
    } else {
      const admin = adminAddress ? getAddress(adminAddress) : developmentAccount(0).address;
      log(`deploying HealthRecordAccessControl from ${relayer.address} (admin ${admin})`);
      const contract = await new ContractFactory(abi, bytecode, relayer).deploy(ADMIN_DELAY_SECONDS, admin);
      const tx = contract.deploymentTransaction();
      const receipt = await tx.wait();
      if (!receipt || receipt.status !== 1) throw new Error(`the deployment transaction ${tx.hash} failed`);
      address = getAddress(await contract.getAddress());
      deployment = {
        chainId,
        address,
        deployBlock: receipt.blockNumber,
        deployTxHash: receipt.hash,
        admin,
        deployedAt: new Date().toISOString(),
      };
      writeJsonAtomically(deploymentFile, deployment);
      log(`contract ${address} deployed at block ${receipt.blockNumber}, saved in ${shown(deploymentFile)}`);
    }

    const contract = new Contract(address, abi, provider);
    const admin = getAddress(await contract.defaultAdmin());
    const signer = await adminSigner(provider, admin, relayer, local);
    if (!signer) {
      if (!(await contract.hasRole(ROLES.ANCHOR_ROLE, relayer.address))) {
        log(
          `warning: the relayer ${relayer.address} lacks ANCHOR_ROLE, so audit anchoring will fail; grant it from the admin ${admin}`,
        );
      }
      if (demo) log(`warning: demo accounts not registered: no key for the admin ${admin} on this chain`);
      return { address, deployment, demoAccounts: [] };
    }
    const demoAccounts = [];
    try {
      if (await ensureRole(contract, signer, 'ANCHOR_ROLE', relayer.address)) {
        log(`ANCHOR_ROLE granted to the relayer ${relayer.address}`);
      }
      if (demo) {
        // The admin console needs the admin's own key: shown when the admin is development account #0.
        const adminAccount = developmentAccount(0);
        if (adminAccount.address === admin) {
          demoAccounts.push({
            label: 'admin',
            role: undefined,
            address: admin,
            privateKey: adminAccount.privateKey,
          });
        }
        let granted = 0;
        for (const { index, label, role } of DEMO_ACCOUNTS) {
          const wallet = developmentAccount(index);
          if (role && (await ensureRole(contract, signer, role, wallet.address))) granted += 1;
          demoAccounts.push({ label, role, address: wallet.address, privateKey: wallet.privateKey });
        }
        log(
          granted > 0
            ? `demo accounts registered (${granted} role${granted === 1 ? '' : 's'} granted)`
            : 'demo accounts already registered',
        );
      }
    } finally {
      await signer.release?.();
    }
    return { address, deployment, demoAccounts };
  } finally {
    provider.destroy();
  }
}

function readDeployment(file) {
  let value;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new StartError(`${shown(file)} is not valid JSON (${error.message}); fix or delete it`);
  }
  if (!value || typeof value.address !== 'string' || !Number.isInteger(value.chainId)) {
    throw new StartError(`${shown(file)} lacks "address" or "chainId"; fix or delete it`);
  }
  try {
    return { ...value, address: getAddress(value.address) };
  } catch {
    throw new StartError(`${shown(file)}: "${value.address}" is not an address; fix or delete it`);
  }
}

/** The demo accounts as printed lines, clearly marked as public development keys. */
function describeDemoAccounts(accounts) {
  if (accounts.length === 0) return [];
  const width = Math.max(...accounts.map((a) => a.label.length));
  return [
    'Demo accounts. These are PUBLIC DEVELOPMENT KEYS (from the well-known test mnemonic',
    `"${DEVELOPMENT_MNEMONIC}"): anyone can use them. Import them into a`,
    'wallet on this local chain only; never use them anywhere else or send them anything of value.',
    ...accounts.map((a) => `  ${a.label.padEnd(width)}  ${a.address}  private key ${a.privateKey}`),
  ];
}

module.exports = {
  ADMIN_DELAY_SECONDS,
  DEMO_ACCOUNTS,
  DEVELOPMENT_MNEMONIC,
  ROLES,
  StartError,
  describeDemoAccounts,
  developmentAccount,
  prepareContract,
};
