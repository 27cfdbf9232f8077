import { useEffect, useMemo, useState } from 'react';
import { layoutDag, type DagLayout, type DagLayoutOptions, type DagStep } from '../lib/dag-layout';

/** Graphs with more steps than this are laid out in a Web Worker, so the page stays responsive. */
export const WORKER_LAYOUT_MIN_STEPS = 300;

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, (layout: DagLayout) => void>();

function layoutInWorker(steps: readonly DagStep[], options: DagLayoutOptions): Promise<DagLayout> {
  if (!worker) {
    worker = new Worker(new URL('../lib/dag-layout.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<{ id: number; layout: DagLayout }>) => {
      waiting.get(event.data.id)?.(event.data.layout);
      waiting.delete(event.data.id);
    };
  }
  const id = (nextId += 1);
  const target = worker;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    target.postMessage({ id, steps: steps.map((s) => ({ id: s.id, dependsOn: s.dependsOn ? [...s.dependsOn] : [] })), options });
  });
}

/**
 * The layout of `steps` (whose identity changes only when the structure does): computed at once for
 * small graphs, in a worker for large ones (undefined until it answers). Where Workers are missing
 * (tests), it is computed in place.
 */
export function useDagLayout(steps: readonly DagStep[], options: DagLayoutOptions): DagLayout | undefined {
  const large = steps.length > WORKER_LAYOUT_MIN_STEPS && typeof Worker !== 'undefined';
  const { nodeWidth, nodeHeight } = options;
  const inPlace = useMemo(() => (large ? undefined : layoutDag(steps, { nodeWidth, nodeHeight })), [large, steps, nodeWidth, nodeHeight]);
  const [fromWorker, setFromWorker] = useState<{ steps: readonly DagStep[]; layout: DagLayout } | undefined>();
  useEffect(() => {
    if (!large) return;
    let current = true;
    void layoutInWorker(steps, { nodeWidth, nodeHeight }).then((layout) => {
      if (current) setFromWorker({ steps, layout });
    });
    return () => {
      current = false;
    };
  }, [large, steps, nodeWidth, nodeHeight]);
  if (!large) return inPlace;
  return fromWorker?.steps === steps ? fromWorker.layout : undefined;
}
