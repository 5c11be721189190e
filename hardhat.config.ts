import { subtask } from 'hardhat/config';
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from 'hardhat/builtin-tasks/task-names';
import type { HardhatUserConfig } from 'hardhat/config';
import '@nomicfoundation/hardhat-toolbox';
import solcPackage from 'solc/package.json';

/** The one Solidity compiler version, pinned in package.json as the `solc` npm package. */
export const SOLC_VERSION = '0.8.30';

// The compiler download site is unreachable from our machines and CI, so Hardhat
// uses the solc-js build shipped in the pinned `solc` npm package instead.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  return {
    version: SOLC_VERSION,
    longVersion: solcPackage.version,
    compilerPath: require.resolve('solc/soljson.js'),
    isSolcJs: true,
  };
});

/** Compiler settings shared by Hardhat and the gas benchmark's build of the seed contract. */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
} as const;

const config: HardhatUserConfig = {
  solidity: { version: SOLC_VERSION, settings: SOLC_SETTINGS },
  paths: {
    sources: './contracts',
    tests: './test/contracts',
    cache: './.cache/hardhat',
    artifacts: './artifacts',
  },
  typechain: {
    outDir: 'libs/chain/src/typechain',
    target: 'ethers-v6',
  },
  mocha: { timeout: 120_000 },
  gasReporter: { enabled: false },
};

export default config;
