import { accessChangedChannel, apiKeyRevokedChannel, parseAccessChange, type AccessChange, type Logger, type Redis } from '@orchestra/lib/gateway';

/**
 * Every change of access identity announces (sessions ended, token versions raised, API keys
 * revoked), heard on one subscriber connection. `resync` says messages may have been missed (the
 * connection was lost and is back): whoever caches access state reads it again.
 */
export type AccessEvent = AccessChange | { kind: 'apiKey'; apiKeyId: string } | { kind: 'resync' };

export interface AccessWatch {
  /** Calls `listener` for every event; returns the unsubscribe function. */
  onChange(listener: (event: AccessEvent) => void): () => void;
  /** True while the channels are subscribed on a connected socket (no message can be missed). */
  live(): boolean;
  stop(): Promise<void>;
}

export async function createAccessWatch({ subscriber, redisPrefix, log }: { subscriber: Redis; redisPrefix: string; log: Logger }): Promise<AccessWatch> {
  const listeners = new Set<(event: AccessEvent) => void>();
  const accessChannel = accessChangedChannel(redisPrefix);
  const keyChannel = apiKeyRevokedChannel(redisPrefix);
  let subscribed = false;
  let connected = subscriber.status === 'ready';
  const emit = (event: AccessEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        log.error('access change listener failed', { err: error, kind: event.kind });
      }
    }
  };
  const onMessage = (channel: string, message: string) => {
    if (channel === keyChannel) {
      emit({ kind: 'apiKey', apiKeyId: message });
    } else if (channel === accessChannel) {
      const change = parseAccessChange(message);
      if (change) emit(change);
      else log.warn('unreadable access change message', { message: message.slice(0, 200) });
    }
  };
  const onClose = () => {
    if (connected) log.warn('access change channel lost: access state is read from Redis until it is back');
    connected = false;
  };
  // ioredis subscribes the channels again on reconnect before it reports ready.
  const onReady = () => {
    if (connected) return;
    connected = true;
    if (subscribed) {
      log.info('access change channel back: access state is read again');
      emit({ kind: 'resync' });
    }
  };
  subscriber.on('message', onMessage);
  subscriber.on('close', onClose);
  subscriber.on('ready', onReady);
  await subscriber.subscribe(accessChannel, keyChannel);
  subscribed = true;
  connected = subscriber.status === 'ready';
  return {
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    live: () => subscribed && connected && subscriber.status === 'ready',
    async stop() {
      subscriber.off('message', onMessage);
      subscriber.off('close', onClose);
      subscriber.off('ready', onReady);
      listeners.clear();
      if (subscriber.status === 'ready') await subscriber.unsubscribe(accessChannel, keyChannel).catch(() => undefined);
    },
  };
}
