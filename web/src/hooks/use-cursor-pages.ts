import { useCallback, useState } from 'react';

/**
 * Back-and-forth over a forward-only cursor connection: the cursors of the pages visited are kept,
 * so Previous returns to the page before. `resetKey` (e.g. the filters) starts again at page one.
 */
export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: Array<string | undefined> }>({ key: resetKey, stack: [undefined] });
  const stack = state.key === resetKey ? state.stack : [undefined];
  if (state.key !== resetKey) setState({ key: resetKey, stack });
  const after = stack[stack.length - 1];
  const next = useCallback((endCursor: string | null | undefined) => {
    if (!endCursor) return;
    setState((s) => ({ key: s.key, stack: [...s.stack, endCursor] }));
  }, []);
  const previous = useCallback(() => setState((s) => ({ key: s.key, stack: s.stack.length > 1 ? s.stack.slice(0, -1) : s.stack })), []);
  return { after, page: stack.length, hasPrevious: stack.length > 1, next, previous };
}
