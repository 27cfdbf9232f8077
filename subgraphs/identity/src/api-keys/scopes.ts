/**
 * What an API key may be allowed to do. Subgraphs name these in `@access(scopes: [...])`; a key
 * reaches a field only when it holds every scope listed there (and only fields tagged public).
 */
export const API_KEY_SCOPES = [
  { name: 'runs:read', description: 'Read runs, their tasks, outputs and live status.' },
  { name: 'runs:write', description: 'Start, cancel and retry runs.' },
  { name: 'approvals:write', description: "Approve or reject waiting approval steps, where the key's creator's role may (runs:write does not include it)." },
  { name: 'workflows:read', description: 'Read workflows and their versions.' },
  { name: 'apps:read', description: 'Read AI applications, their configuration and health.' },
] as const;

export type ApiKeyScopeName = (typeof API_KEY_SCOPES)[number]['name'];

export const isApiKeyScope = (value: string): value is ApiKeyScopeName => API_KEY_SCOPES.some((s) => s.name === value);
