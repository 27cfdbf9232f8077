import { createRoute, useNavigate } from '@tanstack/react-router';
import { Fragment, useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { AuditTarget } from '../components/audit-target';
import { EmailText } from '../components/email-text';
import { Checkbox, Field, TextInput } from '../components/form';
import { MemberPicker } from '../components/member-picker';
import { JsonBlock } from '../components/json-block';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import { Cell, Table } from '../components/table';
import { useServices } from '../hooks/services';
import { useApiQuery } from '../hooks/use-api';
import { useCursorPages } from '../hooks/use-cursor-pages';
import { usePermissions } from '../hooks/use-session';
import type { AuditExportFormat, AuditLogFilter, VerifyAuditChainQuery } from '../lib/api/__generated__/graphql';
import { auditLogExportQuery, auditLogQuery, verifyAuditChainQuery } from '../lib/api/operations/audit';
import { queryKeys, type AuditListParams } from '../lib/api/query-keys';
import { ExactTime } from '../components/time';
import { appLayoutRoute } from './app-layout';

type AuditSearch = Omit<AuditListParams, 'after'>;
const FILTER_FIELDS = ['actorId', 'actorLabel', 'action', 'targetType', 'targetId', 'outcome', 'from', 'to', 'noise'] as const;

/**
 * Events hidden unless asked for: every sign-in, sign-out, token refresh and organization switch is
 * recorded, and they would bury the changes people made. Filtering on one of these actions shows it.
 */
export const NOISY_ACTIONS = ['auth.refresh', 'auth.login', 'auth.logout', 'auth.switch_organization'] as const;

const parseAuditSearch = (search: Record<string, unknown>): AuditSearch => {
  const out: AuditSearch = {};
  for (const key of FILTER_FIELDS) {
    const value = search[key];
    if (typeof value === 'string' && value.trim() !== '' && value.length <= 500) out[key] = value;
  }
  if (out.actorId === undefined) delete out.actorLabel;
  if (out.noise !== undefined && out.noise !== 'shown') delete out.noise;
  return out;
};

const localToIso = (value: string | undefined) => (value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined);

const toFilter = (search: AuditSearch): AuditLogFilter => ({
  ...(search.actorId ? { actorId: search.actorId } : {}),
  ...(search.action ? { action: search.action } : {}),
  ...(search.noise === 'shown' || search.action?.startsWith('auth.') ? {} : { excludeActions: [...NOISY_ACTIONS] }),
  ...(search.targetType ? { targetType: search.targetType } : {}),
  ...(search.targetId ? { targetId: search.targetId } : {}),
  ...(search.outcome ? { outcome: search.outcome } : {}),
  ...(localToIso(search.from) ? { from: localToIso(search.from) } : {}),
  ...(localToIso(search.to) ? { to: localToIso(search.to) } : {}),
});

function download(content: string, fileName: string, contentType: string) {
  const url = URL.createObjectURL(new Blob([content], { type: contentType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

function VerifyResult({ result }: { result: VerifyAuditChainQuery['verifyAuditChain'] }) {
  if (result.ok) {
    return (
      <Notice tone="success">
        The chain is intact: {result.checkedEvents} events checked
        {result.firstSequence !== null && ` (#${result.firstSequence}–#${result.lastSequence})`}, anchored at {result.anchor.toLowerCase().replace(/_/g, ' ')}
        {result.witnessedHeadsChecked > 0 && `; ${result.witnessedHeadsChecked} chain head${result.witnessedHeadsChecked === 1 ? '' : 's'} witnessed outside the database matched`}.
      </Notice>
    );
  }
  return (
    <div role="alert" className="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
      <p className="font-semibold">The chain is broken at event #{result.break?.sequence}</p>
      <p>{result.break?.message}</p>
      {result.break?.expected && (
        <p className="mt-1 break-all font-mono text-xs">
          expected {result.break.expected}
          <br />
          actual {result.break.actual}
        </p>
      )}
    </div>
  );
}

/** An action name that may wrap after its dots (run.start, member.role_change) rather than anywhere. */
const breakAfterDots = (action: string) =>
  action.split('.').map((part, i, parts) => (
    <Fragment key={i}>
      {part}
      {i < parts.length - 1 && <>.<wbr /></>}
    </Fragment>
  ));

function AuditPage() {
  const { api } = useServices();
  const can = usePermissions();
  const search = auditRoute.useSearch();
  const navigate = useNavigate({ from: '/audit' });
  const [draft, setDraft] = useState<AuditSearch>(search);
  const [expanded, setExpanded] = useState<string>();
  const [exporting, setExporting] = useState<AuditExportFormat>();
  const [exportError, setExportError] = useState<unknown>();
  const [verifyRequest, setVerifyRequest] = useState<{ from?: string | undefined; to?: string | undefined; check: number }>();
  const pages = useCursorPages(JSON.stringify(search));
  const filter = toFilter(search);
  const log = useApiQuery(queryKeys.audit.list({ ...search, after: pages.after }), auditLogQuery, { filter, first: 50, after: pages.after ?? null }, { enabled: can.readAudit, placeholderData: (p) => p });
  const verification = useApiQuery(queryKeys.audit.verification(verifyRequest ?? { check: 0 }), verifyAuditChainQuery, { from: verifyRequest?.from ?? null, to: verifyRequest?.to ?? null }, { enabled: verifyRequest !== undefined });

  if (!can.readAudit) return <Notice tone="warning">Only admins and owners read the audit log.</Notice>;

  const apply = (event: FormEvent) => {
    event.preventDefault();
    void navigate({ search: parseAuditSearch(draft as Record<string, unknown>) });
  };

  const exportAs = async (format: AuditExportFormat) => {
    setExporting(format);
    setExportError(undefined);
    try {
      const parts: string[] = [];
      let after: string | null = null;
      let file = { fileName: 'audit-log', contentType: 'text/plain' };
      // The API hands the range out page by page so neither side holds it whole; the browser joins them.
      do {
        const { auditLogExport: page }: { auditLogExport: { content: string; nextCursor: string | null; fileName: string; contentType: string } } = await api.request(auditLogExportQuery, { filter, format, first: 5000, after });
        parts.push(page.content);
        file = { fileName: page.fileName, contentType: page.contentType };
        after = page.nextCursor;
      } while (after);
      download(parts.join(''), file.fileName, file.contentType);
    } catch (caught) {
      setExportError(caught);
    } finally {
      setExporting(undefined);
    }
  };

  const set = (key: keyof AuditSearch) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: e.target.value }));

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change anyone made in this organization, newest first. Events are hash-chained: editing one is detected."
        actions={
          <>
            <Button busy={exporting === 'CSV'} disabled={exporting !== undefined} onClick={() => void exportAs('CSV')}>Export CSV</Button>
            <Button busy={exporting === 'JSON_LINES'} disabled={exporting !== undefined} onClick={() => void exportAs('JSON_LINES')}>Export JSON lines</Button>
            <Button variant="primary" busy={verification.isFetching} onClick={() => setVerifyRequest((r) => ({ from: filter.from ?? undefined, to: filter.to ?? undefined, check: (r?.check ?? 0) + 1 }))}>
              Verify chain
            </Button>
          </>
        }
      />
      <div className="mb-4 space-y-3">
        {exportError !== undefined && <ErrorNotice error={exportError} title="The export failed" />}
        {verification.error && <ErrorNotice error={verification.error} title="The chain could not be verified" />}
        {verification.data && <VerifyResult result={verification.data.verifyAuditChain} />}
      </div>
      <Card padded={false}>
        <form onSubmit={apply} className="grid grid-cols-[repeat(auto-fill,minmax(14rem,1fr))] gap-3 border-b border-slate-100 p-4">
          <MemberPicker
            label="Actor"
            value={search.actorId ? { id: search.actorId, label: search.actorLabel ?? search.actorId } : undefined}
            onChange={(member) => {
              const next = { ...search, actorId: member?.id, actorLabel: member?.label };
              setDraft((d) => ({ ...d, actorId: member?.id, actorLabel: member?.label }));
              void navigate({ search: parseAuditSearch(next as Record<string, unknown>) });
            }}
          />
          <Field label="Action" hint="Exact (member.add) or a prefix (member.*)">{(p) => <TextInput {...p} value={draft.action ?? ''} onChange={set('action')} />}</Field>
          <Field label="Target type">{(p) => <TextInput {...p} value={draft.targetType ?? ''} onChange={set('targetType')} />}</Field>
          <Field label="Target id">{(p) => <TextInput {...p} value={draft.targetId ?? ''} onChange={set('targetId')} />}</Field>
          <Field label="Outcome" hint="success, failure or an error code">{(p) => <TextInput {...p} value={draft.outcome ?? ''} onChange={set('outcome')} />}</Field>
          <Field label="From">{(p) => <TextInput {...p} type="datetime-local" value={draft.from ?? ''} onChange={set('from')} />}</Field>
          <Field label="To">{(p) => <TextInput {...p} type="datetime-local" value={draft.to ?? ''} onChange={set('to')} />}</Field>
          <div className="flex items-end gap-2">
            <Checkbox
              label="Show sign-ins and token refreshes"
              checked={search.noise === 'shown'}
              onChange={(e) => {
                const noise = e.target.checked ? 'shown' : undefined;
                setDraft((d) => ({ ...d, noise }));
                void navigate({ search: parseAuditSearch({ ...search, noise }) });
              }}
            />
          </div>
          <div className="flex items-end gap-2">
            <Button type="submit" variant="primary">Apply filters</Button>
            <Button onClick={() => { setDraft({}); void navigate({ search: {} }); }}>Clear</Button>
          </div>
        </form>
        {log.isPending ? (
          <LoadingBlock />
        ) : log.error ? (
          <div className="p-4"><ErrorNotice error={log.error} onRetry={() => void log.refetch()} /></div>
        ) : log.data.auditLog.edges.length === 0 ? (
          <EmptyState title="No events match" />
        ) : (
          <>
            <div className={log.isPlaceholderData ? 'opacity-60 transition-opacity' : ''} aria-busy={log.isPlaceholderData}>
              <Table label="Audit events" head={['#', 'When', 'Actor', 'Action', 'Target', 'Outcome', '']}>
                {log.data.auditLog.edges.map(({ node }) => (
                  <Fragment key={node.id}>
                    <tr className="hover:bg-slate-50/70">
                      <Cell layout="nowrap" className="tabular-nums text-slate-500">{node.sequence}</Cell>
                      <Cell className="min-w-28"><ExactTime value={node.occurredAt} /></Cell>
                      <Cell className="max-w-52">
                        <button
                          type="button"
                          className="text-left hover:text-indigo-700 hover:underline"
                          title="Show only what this actor did"
                          onClick={() => {
                            const actor = { actorId: node.actor.id, actorLabel: node.actor.display ?? node.actor.id };
                            setDraft((d) => ({ ...d, ...actor }));
                            void navigate({ search: parseAuditSearch({ ...search, ...actor }) });
                          }}
                        >
                          <EmailText value={node.actor.display ?? node.actor.id} />
                        </button>
                        <span className="ml-1 whitespace-nowrap text-xs text-slate-400">{node.actor.kind.toLowerCase().replace('_', ' ')}</span>
                      </Cell>
                      <Cell className="font-mono text-xs">{breakAfterDots(node.action)}</Cell>
                      <Cell layout="nowrap" className="text-xs">
                        <AuditTarget targetType={node.targetType} targetId={node.targetId} diff={node.diff} />
                      </Cell>
                      <Cell>
                        <span className={`text-xs font-semibold ${node.outcome === 'success' ? 'text-emerald-700' : 'text-red-700'}`}>{node.outcome}</span>
                      </Cell>
                      <Cell layout="actions">
                        <Button size="sm" variant="ghost" aria-expanded={expanded === node.id} onClick={() => setExpanded((e) => (e === node.id ? undefined : node.id))}>
                          {expanded === node.id ? 'Hide' : 'Details'}
                        </Button>
                      </Cell>
                    </tr>
                    {expanded === node.id && (
                      <tr>
                        <td colSpan={7} className="bg-slate-50 px-4 py-3">
                          <dl className="mb-3 grid grid-cols-1 gap-2 text-xs sm:grid-cols-3">
                            <div><dt className="text-slate-500">Request id</dt><dd className="font-mono">{node.requestId}</dd></div>
                            <div><dt className="text-slate-500">Service</dt><dd>{node.service}</dd></div>
                            <div><dt className="text-slate-500">IP / user agent</dt><dd className="truncate">{node.ip ?? '—'} · {node.userAgent ?? '—'}</dd></div>
                          </dl>
                          <JsonBlock value={node.diff} label={`Changes recorded by event ${node.sequence}`} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </Table>
            </div>
            <Pagination hasPrevious={pages.hasPrevious} hasNext={log.data.auditLog.pageInfo.hasNextPage} onPrevious={pages.previous} onNext={() => pages.next(log.data.auditLog.pageInfo.endCursor)} summary={`Page ${pages.page}`} />
          </>
        )}
      </Card>
    </>
  );
}

export const auditRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/audit', validateSearch: parseAuditSearch, component: AuditPage });
