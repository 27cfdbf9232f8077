import { useState } from 'react';
import { useServices } from '../hooks/services';
import type { RunAgainSourceQuery } from '../lib/api/__generated__/graphql';
import { runAgainSourceQuery } from '../lib/api/operations/runs';
import { presentError } from '../lib/api/errors';
import { Button } from './button';
import { StartRunDialog } from './start-run-dialog';

type Source = NonNullable<RunAgainSourceQuery['run']>;

/**
 * "Run again": reads the run's workflow and input, then opens the start dialog filled with them (the
 * input can be edited first; the version is the run's unless another is chosen). Focus stays on the
 * button while the run is read, so it returns there when the dialog closes.
 */
export function RunAgainButton({ runId }: { runId: string }) {
  const { api } = useServices();
  const [source, setSource] = useState<Source>();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();

  const open = async () => {
    setBusy(true);
    setProblem(undefined);
    try {
      const { run } = await api.request(runAgainSourceQuery, { id: runId });
      if (run) setSource(run);
      else setProblem(`Run ${runId} was not found.`);
    } catch (caught) {
      setProblem(presentError(caught).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {/* Not disabled while busy: a disabled button loses focus, which should come back to it after the dialog. */}
      <Button size="sm" variant="ghost" aria-busy={busy || undefined} onClick={() => void (busy ? undefined : open())} title={problem ?? 'Start a new run with the same workflow and input'} aria-describedby={problem ? `run-again-problem-${runId}` : undefined}>
        Run again
      </Button>
      {problem && (
        <span id={`run-again-problem-${runId}`} role="alert" className="ml-1 text-xs text-red-700">
          {problem}
        </span>
      )}
      {source && (
        <StartRunDialog
          open
          onClose={() => setSource(undefined)}
          title={`Run ${source.workflow.name} again`}
          workflow={source.workflow}
          versions={source.workflow.versions.map((v) => v.number)}
          initialVersion={source.workflow.versions.length > 1 ? source.workflowVersion : undefined}
          initialInput={source.input ?? {}}
        />
      )}
    </>
  );
}
