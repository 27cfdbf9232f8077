import { useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { useApiMutation } from '../hooks/use-api';
import { startRunMutation } from '../lib/api/operations/workflows';
import { queryKeys } from '../lib/api/query-keys';
import { parseJsonText } from '../lib/step-errors';
import { fieldErrorFor } from '../lib/field-errors';
import { Dialog, FormDialogFooter } from './dialog';
import { ErrorNotice } from './feedback';
import { Field, TextArea, TextInput } from './form';

/**
 * Starts a run of a workflow with an input object and an optional idempotency key, then opens it.
 * `initialInput` fills the input (Run again: the input of an earlier run, to start as is or edit).
 */
export function StartRunDialog({
  workflow,
  versions,
  open,
  onClose,
  initialInput,
  initialVersion,
  title,
}: {
  workflow: { id: string; name: string };
  versions?: readonly number[];
  open: boolean;
  onClose: () => void;
  initialInput?: unknown;
  initialVersion?: number;
  title?: string;
}) {
  const navigate = useNavigate();
  const [input, setInput] = useState(initialInput === undefined ? '{\n  \n}' : JSON.stringify(initialInput, null, 2));
  const [idempotencyKey, setIdempotencyKey] = useState('');
  const [version, setVersion] = useState<string>(initialVersion === undefined ? '' : String(initialVersion));
  const [inputProblem, setInputProblem] = useState<string>();
  const start = useApiMutation(startRunMutation, {
    invalidates: [queryKeys.runs.lists],
    onSuccess: ({ startRun }) => {
      onClose();
      void navigate({ to: '/runs/$runId', params: { runId: startRun.run.id }, search: startRun.deduplicated ? { deduplicated: true } : {} });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJsonText(input.trim() === '' ? '{}' : input);
    if (!parsed.ok) {
      setInputProblem(`Not valid JSON${parsed.problem.line ? ` (line ${parsed.problem.line}, column ${parsed.problem.column})` : ''}: ${parsed.problem.message}`);
      return;
    }
    if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      setInputProblem('The run input must be a JSON object ({ ... }); steps read it as {{ input.<name> }}.');
      return;
    }
    setInputProblem(undefined);
    start.mutate({
      input: {
        workflowId: workflow.id,
        input: parsed.value,
        ...(idempotencyKey.trim() ? { idempotencyKey: idempotencyKey.trim() } : {}),
        ...(version ? { version: Number(version) } : {}),
      },
    });
  };

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={title ?? `Start a run of ${workflow.name}`}
      wide
      footer={<FormDialogFooter formId="start-run" submitLabel="Start run" busy={start.isPending} onCancel={onClose} />}
    >
      <form id="start-run" onSubmit={submit} className="space-y-4">
        {start.error && !fieldErrorFor(start.error, 'input') && <ErrorNotice error={start.error} title="The run was not started" />}
        <Field label="Input (JSON object)" hint="Steps read it as {{ input.<name> }}." error={inputProblem ?? fieldErrorFor(start.error, 'input')}>
          {(p) => <TextArea {...p} rows={8} value={input} onChange={(e) => setInput(e.target.value)} />}
        </Field>
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <Field label="Idempotency key (optional)" hint="Starting again with the same key returns the first run.">
            {(p) => <TextInput {...p} value={idempotencyKey} onChange={(e) => setIdempotencyKey(e.target.value)} />}
          </Field>
          {versions && versions.length > 1 && (
            <Field label="Version">
              {(p) => (
                <select {...p} value={version} onChange={(e) => setVersion(e.target.value)} className="block w-full rounded-lg border-0 px-3 py-2 text-sm ring-1 ring-inset ring-slate-300">
                  <option value="">Latest</option>
                  {versions.map((v) => (
                    <option key={v} value={v}>
                      v{v}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
        </div>
      </form>
    </Dialog>
  );
}
