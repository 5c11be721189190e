import { Module } from '@nestjs/common';
import { ChainModule } from '../chain/chain.module';
import { RELAY_COMMAND_HANDLERS } from './relay.commands';
import { RelayController } from './relay.controller';
import { RelayChain } from './relay-chain';
import { RELAY_QUERY_HANDLERS } from './relay.queries';
import { RelayWorker } from './relay.worker';
import { RelayerAccount } from './relayer-account';

/** Signed consents in (HTTP), transactions out (the relay worker), progress as events. */
@Module({
  imports: [ChainModule],
  controllers: [RelayController],
  providers: [RelayChain, RelayerAccount, RelayWorker, ...RELAY_COMMAND_HANDLERS, ...RELAY_QUERY_HANDLERS],
  exports: [RelayWorker, RelayerAccount, RelayChain],
})
export class RelayModule {}
