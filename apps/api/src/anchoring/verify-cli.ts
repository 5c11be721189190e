import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createChainProvider, HealthRecordAccessControl__factory } from '@custos/chain';
import { resolveDeployment } from '../chain/deployment';
import { ConfigError, loadConfig } from '../config/load-config';
import { createEventStore } from '../event-store/event-store.factory';
import { verifyAuditAnchors } from './anchor-verifier';

/**
 * `npm run audit:verify`: checks every audit range anchored on-chain against the event store the
 * settings point at (the same .env / environment as the API) and prints the report. Exit code 0 when
 * everything matches, 1 on a mismatch (the first event that does not match is named), 2 when it cannot
 * check (no chain or contract). Read-only: safe while the API runs.
 */
async function main(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  const { deployment, warnings } = resolveDeployment(config);
  for (const warning of warnings) console.error(`warning: ${warning}`);
  if (!deployment || !/^https?:\/\//i.test(config.CHAIN_RPC_URL)) {
    console.error(
      'no chain or contract configured (CHAIN_RPC_URL, CONTRACT_ADDRESS): nothing to verify against',
    );
    return 2;
  }
  const provider = createChainProvider(config.CHAIN_RPC_URL, config.CHAIN_ID);
  const store = createEventStore(config);
  try {
    const contract = HealthRecordAccessControl__factory.connect(deployment.address, provider);
    const report = await verifyAuditAnchors(store, contract, new Date());
    console.log(JSON.stringify(report, null, 2));
    if (report.ok) {
      console.log(
        `audit log verified: ${report.anchoredEvents} events in ${report.anchoredRanges} anchored ranges match the chain (block ${report.chainBlock}); ${report.unanchoredEvents} not anchored yet`,
      );
      return 0;
    }
    const m = report.firstMismatch!;
    console.log(
      `AUDIT LOG MISMATCH at position ${m.position} (event ${m.eventId ?? 'missing'}), range ${m.fromPosition}..${m.toPosition}: ${m.reason}`,
    );
    return 1;
  } finally {
    await store.close();
    provider.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(2);
  },
);
