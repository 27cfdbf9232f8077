import type { Logger, Principal } from '@orchestra/lib/gateway';

/** Per-request context of the gateway's Apollo Server. */
export interface GatewayContext {
  principal: Principal;
  /** The principal signed for subgraphs (x-orchestra-principal), minted once per request. */
  principalHeader: string;
  requestId: string;
  log: Logger;
}
