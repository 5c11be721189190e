import { Module } from '@nestjs/common';
import { ChainModule } from '../chain/chain.module';
import { RelayModule } from '../relay/relay.module';
import { ChainGatewayController } from './chain-gateway.controller';

/**
 * The chain as the web app reaches it through the API: the EIP-712 signing context, the status the
 * admin console shows, and a narrow JSON-RPC for wallets without a node of their own.
 */
@Module({ imports: [ChainModule, RelayModule], controllers: [ChainGatewayController] })
export class ChainGatewayModule {}
