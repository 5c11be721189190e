import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isAddress } from 'ethers';
import type { AppConfig } from '../config/config.schema';

/** The contract the API works with, and where its history starts. */
export interface ContractDeployment {
  /** Lower-case address. */
  address: string;
  /** The block the contract was deployed in, when known (the mirror starts there). */
  deployBlock?: number;
  /** Where the address came from. */
  source: 'CONTRACT_ADDRESS' | 'deployment.json';
}

export interface DeploymentResolution {
  deployment: ContractDeployment | null;
  /** Why the saved deployment was not used, or why there is no contract; for one warning at start-up. */
  warnings: string[];
}

/** `<CUSTOS_DATA_DIR>/chain/deployment.json`, written by `npm start` when it deploys the contract. */
export const deploymentFile = (dataDir: string): string => path.join(dataDir, 'chain', 'deployment.json');

interface SavedDeployment {
  chainId?: unknown;
  address?: unknown;
  deployBlock?: unknown;
}

function readSaved(file: string): { saved?: SavedDeployment; problem?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `cannot read ${file}: ${(error as Error).message}` };
  }
  try {
    const saved = JSON.parse(text) as unknown;
    if (typeof saved !== 'object' || saved === null) return { problem: `${file} is not a JSON object` };
    return { saved: saved as SavedDeployment };
  } catch {
    return { problem: `${file} is not valid JSON` };
  }
}

/**
 * The contract address: CONTRACT_ADDRESS when set, else the one `npm start` saved for this chain. The
 * saved deployment block is used when the saved file is about the same contract on the same chain.
 */
export function resolveDeployment(config: AppConfig): DeploymentResolution {
  const file = deploymentFile(config.CUSTOS_DATA_DIR);
  const { saved, problem } = readSaved(file);
  const warnings = problem ? [problem] : [];
  let savedAddress: string | undefined;
  let savedBlock: number | undefined;
  if (saved) {
    if (saved.chainId !== undefined && Number(saved.chainId) !== config.CHAIN_ID) {
      warnings.push(
        `${file} describes a contract on chain ${String(saved.chainId)}, but CHAIN_ID is ${config.CHAIN_ID}: it is ignored`,
      );
    } else if (typeof saved.address !== 'string' || !isAddress(saved.address)) {
      warnings.push(`${file} has no valid "address": it is ignored`);
    } else {
      savedAddress = saved.address.toLowerCase();
      const block = Number(saved.deployBlock);
      if (Number.isSafeInteger(block) && block >= 0) savedBlock = block;
    }
  }
  if (config.CONTRACT_ADDRESS) {
    const address = config.CONTRACT_ADDRESS.toLowerCase();
    return {
      deployment: {
        address,
        source: 'CONTRACT_ADDRESS',
        ...(savedAddress === address && savedBlock !== undefined ? { deployBlock: savedBlock } : {}),
      },
      warnings,
    };
  }
  if (savedAddress) {
    return {
      deployment: {
        address: savedAddress,
        source: 'deployment.json',
        ...(savedBlock !== undefined ? { deployBlock: savedBlock } : {}),
      },
      warnings,
    };
  }
  return { deployment: null, warnings };
}
