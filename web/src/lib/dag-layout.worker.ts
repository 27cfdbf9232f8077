import { layoutDag, type DagLayoutOptions, type DagStep } from './dag-layout';

interface WorkerScope {
  onmessage: ((event: MessageEvent<{ id: number; steps: DagStep[]; options: DagLayoutOptions }>) => void) | null;
  postMessage(message: unknown): void;
}

/** Lays a large graph out off the main thread (use-dag-layout.ts sends it the steps). */
const scope = self as unknown as WorkerScope;
scope.onmessage = (event) => {
  const { id, steps, options } = event.data;
  scope.postMessage({ id, layout: layoutDag(steps, options) });
};
