import type { Logger, Principal } from '@orchestra/lib/gateway';

/** Per-request context of the gateway's Apollo Server. */
export interface GatewayContext {
  principal: Principal;
  /** Who the caller is, signed for subgraphs (x-orchestra-principal): one header per caller every 30 s (PrincipalSigner.signIdentity); the request id and trace go beside it. */
  principalHeader: string;
  requestId: string;
  log: Logger;
}
