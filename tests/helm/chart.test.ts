// The Helm chart (deploy/helm/orchestra) rendered by the real helm binary, with the default values and
// with a production-like values file, every object checked against the Kubernetes schemas
// (kubernetes-models) and against what the services themselves expect (their zod config schemas).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrincipalSigner, createPrincipalVerifier, createWorkerAuthority, loadConfig, servicePrincipal } from '@orchestra/lib';
import { loadWorkerConfig } from '@orchestra/workers';
import { parse as parseYaml } from 'yaml';
import { PRODUCTION_VALUES, ROOT, admits, fetchHelm, helm, named, ofKind, render, renderArgs, selects, CHART, type K8sObject, type Peer, type Rendered } from './helm';

const RELEASE = 'orch';
const NAMESPACE = 'orchestra';
const PREFIX = `${RELEASE}-orchestra`;
const SUBGRAPHS = ['identity', 'catalog', 'orchestration', 'audit', 'notifications'] as const;
const STATELESS = ['gateway', ...SUBGRAPHS] as const;
const HTTP_PORTS: Record<string, number> = { gateway: 4000, identity: 4101, catalog: 4102, orchestration: 4103, audit: 4104, notifications: 4105, worker: 4110 };
const GRPC_PORTS: Record<string, number> = { identity: 50051, catalog: 50052, orchestration: 50053, audit: 50054, notifications: 50055, worker: 50061 };
const OPS_PORT = 4001;

let helmBinary: string;
let defaults: Rendered;
let production: Rendered;
type Validator = new (data: any) => { validate(): void };
let models: Record<string, Validator>;

beforeAll(async () => {
  helmBinary = fetchHelm();
  // One at a time: jest's ESM loader fails ("not in cache") when modules sharing files load concurrently.
  const core = await import('kubernetes-models/v1');
  const apps = await import('kubernetes-models/apps/v1');
  const batch = await import('kubernetes-models/batch/v1');
  const autoscaling = await import('kubernetes-models/autoscaling/v2');
  const policy = await import('kubernetes-models/policy/v1');
  const networking = await import('kubernetes-models/networking.k8s.io/v1');
  const monitoring = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
  models = {
    'v1/Secret': core.Secret,
    'v1/Pod': core.Pod,
    'v1/Service': core.Service,
    'v1/ServiceAccount': core.ServiceAccount,
    'v1/PersistentVolumeClaim': core.PersistentVolumeClaim,
    'apps/v1/Deployment': apps.Deployment,
    'batch/v1/Job': batch.Job,
    'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.HorizontalPodAutoscaler,
    'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
    'networking.k8s.io/v1/NetworkPolicy': networking.NetworkPolicy,
    'networking.k8s.io/v1/Ingress': networking.Ingress,
    'monitoring.coreos.com/v1/ServiceMonitor': monitoring.ServiceMonitor,
  };
  defaults = render(helmBinary, { release: RELEASE, namespace: NAMESPACE });
  production = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, valuesFiles: [PRODUCTION_VALUES] });
}, 120_000);

// --- helpers over rendered objects ---------------------------------------------------------------

const podSpec = (o: K8sObject): any => o.spec.template.spec;
const container = (o: K8sObject): any => podSpec(o).containers[0];
const podLabels = (o: K8sObject): Record<string, string> => o.spec.template.metadata.labels;
const namedPorts = (o: K8sObject): Record<string, number> =>
  Object.fromEntries((container(o).ports ?? []).map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
const envOf = (o: K8sObject): Array<{ name: string; value?: string; valueFrom?: any }> => container(o).env ?? [];
const envEntry = (o: K8sObject, name: string) => envOf(o).find((e) => e.name === name);
const deployment = (r: Rendered, component: string) => named(r.objects, 'Deployment', `${PREFIX}-${component}`);
const workerDeployments = (r: Rendered) => ofKind(r.objects, 'Deployment').filter((d) => podLabels(d)['app.kubernetes.io/component'] === 'worker');

/** The environment a container sees: literal values, Secret keys (from `secrets`), then $(VAR) expanded as the kubelet does. */
function resolveEnv(o: K8sObject, secrets: Record<string, Record<string, string>>, downward: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of envOf(o)) {
    let value: string;
    if (entry.valueFrom?.secretKeyRef) {
      const { name, key } = entry.valueFrom.secretKeyRef;
      const found = secrets[name]?.[key];
      if (found === undefined) throw new Error(`${o.metadata.name}: ${entry.name} reads Secret ${name} key ${key}, which the test was not given`);
      value = found;
    } else if (entry.valueFrom?.fieldRef) {
      const found = downward[entry.valueFrom.fieldRef.fieldPath];
      if (found === undefined) throw new Error(`${o.metadata.name}: unexpected fieldRef ${entry.valueFrom.fieldRef.fieldPath}`);
      value = found;
    } else if (entry.valueFrom) {
      throw new Error(`${o.metadata.name}: ${entry.name} uses an unexpected valueFrom`);
    } else {
      value = (entry.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name: string) => env[name] ?? all);
    }
    env[entry.name] = value;
  }
  return env;
}

const decodeSecret = (secret: K8sObject): Record<string, string> =>
  Object.fromEntries(Object.entries(secret['data'] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

/** The Kubernetes objects of a render grouped by Deployment component label. */
const componentOf = (o: K8sObject) => podLabels(o)['app.kubernetes.io/component'] ?? '';

// --- the tests -----------------------------------------------------------------------------------

describe('helm lint and template', () => {
  test('the chart lints clean with the default values and with the production values', () => {
    for (const args of [['lint', '--strict', CHART], ['lint', '--strict', CHART, '--values', PRODUCTION_VALUES]]) {
      const result = helm(helmBinary, args);
      expect(`${result.stdout}${result.stderr}`).toContain('0 chart(s) failed');
      expect(result.status).toBe(0);
    }
  });

  test('the default values render one Deployment per service, a worker group, and the objects around them', () => {
    const kinds = defaults.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      expect.arrayContaining([
        ...STATELESS.map((c) => `Deployment/${PREFIX}-${c}`),
        ...STATELESS.map((c) => `Service/${PREFIX}-${c}`),
        ...STATELESS.map((c) => `HorizontalPodAutoscaler/${PREFIX}-${c}`),
        ...STATELESS.map((c) => `PodDisruptionBudget/${PREFIX}-${c}`),
        `Deployment/${PREFIX}-worker-gpu`,
        `Service/${PREFIX}-worker-gpu`,
        `PodDisruptionBudget/${PREFIX}-worker-gpu`,
        `Deployment/${PREFIX}-worker-browser`,
        `Service/${PREFIX}-worker-browser`,
        `PodDisruptionBudget/${PREFIX}-worker-browser`,
        `Job/${PREFIX}-migrate`,
        `Secret/${PREFIX}-secrets`,
        `ServiceAccount/${PREFIX}`,
      ]),
    );
    expect(ofKind(defaults.objects, 'Ingress')).toHaveLength(0);
    expect(ofKind(defaults.objects, 'ServiceMonitor')).toHaveLength(0);
    expect(ofKind(defaults.objects, 'Deployment')).toHaveLength(8);
  });

  test('the production values render 4 worker groups, the ingress, the ServiceMonitor and the audit archive claim, and no Secret', () => {
    expect(workerDeployments(production).map((d) => d.metadata.name).sort()).toEqual([`${PREFIX}-worker-a100`, `${PREFIX}-worker-browser`, `${PREFIX}-worker-cpu`, `${PREFIX}-worker-l4`]);
    expect(ofKind(production.objects, 'Ingress')).toHaveLength(1);
    expect(ofKind(production.objects, 'ServiceMonitor')).toHaveLength(1);
    expect(named(production.objects, 'PersistentVolumeClaim', `${PREFIX}-audit-archive`).spec.accessModes).toEqual(['ReadWriteMany']);
    // Every secret comes from an existing Secret: the chart has nothing to hold.
    expect(ofKind(production.objects, 'Secret')).toHaveLength(0);
    // Browser groups run the same build with chromium added (the Dockerfile's browser-worker target).
    for (const d of ofKind(production.objects, 'Deployment')) {
      const browser = podLabels(d)['orchestra.dev/worker-group'] === 'browser';
      expect(container(d).image).toBe(`registry.internal.example/platform/orchestra${browser ? '-browser' : ''}:1.4.2`);
    }
  });

  test.each([
    ['default values', () => defaults],
    ['production values', () => production],
  ])('every object rendered with the %s is valid for its Kubernetes API (kubernetes-models)', (_name, rendered) => {
    const objects = rendered().objects;
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) {
      const model = models[`${object.apiVersion}/${object.kind}`];
      if (!model) throw new Error(`no schema to validate ${object.apiVersion} ${object.kind} ${object.metadata.name}: add its model to this test`);
      expect(object.metadata.namespace ?? NAMESPACE).toBe(NAMESPACE);
      try {
        new model(object).validate();
      } catch (error) {
        throw new Error(`${object.kind} ${object.metadata.name} is not valid: ${(error as Error).message}`);
      }
    }
  });

  test('the schema check of this test catches a malformed object (it can fail)', () => {
    const broken = structuredClone(deployment(defaults, 'gateway'));
    podSpec(broken).containers[0].ports[0].containerPort = 'four thousand';
    expect(() => new models['apps/v1/Deployment']!(broken).validate()).toThrow(/containerPort/);
  });
});

describe('services and probes', () => {
  test.each([
    ['default values', () => defaults],
    ['production values', () => production],
  ])('with the %s each service probes /readyz and /healthz on the HTTP port it listens on', (_name, rendered) => {
    const r = rendered();
    const deployments = ofKind(r.objects, 'Deployment');
    for (const d of deployments) {
      const component = componentOf(d);
      const c = container(d);
      const httpPort = HTTP_PORTS[component];
      expect(httpPort).toBeDefined();
      expect(namedPorts(d)['http']).toBe(httpPort);
      expect(envEntry(d, 'HTTP_PORT')?.value).toBe(String(httpPort));
      if (GRPC_PORTS[component] !== undefined) {
        expect(namedPorts(d)['grpc']).toBe(GRPC_PORTS[component]);
        expect(envEntry(d, 'GRPC_PORT')?.value).toBe(String(GRPC_PORTS[component]));
      }
      // The gateway's HTTP port is public: its probes (and scrapes) use the ops port, where /readyz has its checks.
      const probePort = component === 'gateway' ? 'ops' : 'http';
      const metricsPort = component === 'gateway' ? OPS_PORT : httpPort;
      if (component === 'gateway') {
        expect(namedPorts(d)['ops']).toBe(OPS_PORT);
        expect(envEntry(d, 'OPS_PORT')?.value).toBe(String(OPS_PORT));
      }
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: probePort });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: probePort });
      expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: probePort });
      // Listening on the pod's address, not loopback (the services default to 127.0.0.1).
      expect(envEntry(d, 'HOST')?.value).toBe('0.0.0.0');
      expect(c.command).toEqual(['node', '--conditions=orchestra-dist', component === 'worker' ? 'workers/dist/main.js' : component === 'gateway' ? 'gateway/dist/main.js' : `subgraphs/${component}/dist/main.js`]);
      // Scrape hints unless a ServiceMonitor already scrapes the pod (production values): never both.
      if (r === production) expect(d.spec.template.metadata.annotations?.['prometheus.io/scrape']).toBeUndefined();
      else expect(d.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics' });
    }
    expect(new Set(deployments.map(componentOf))).toEqual(new Set([...STATELESS, 'worker']));
  });

  test('each Service selects its own pods and targets ports the containers declare', () => {
    for (const r of [defaults, production]) {
      const deployments = ofKind(r.objects, 'Deployment');
      for (const service of ofKind(r.objects, 'Service')) {
        const targets = deployments.filter((d) => selects({ matchLabels: service.spec.selector }, podLabels(d)));
        // <component>-grpc is the headless gRPC Service of <component>'s pods, <component>-ops the gateway's ops port.
        expect(targets.map((d) => d.metadata.name)).toEqual([service.metadata.name.replace(/-(grpc|ops)$/, '')]);
        for (const port of service.spec.ports) expect(namedPorts(targets[0]!)[port.targetPort]).toBeDefined();
      }
    }
  });

  test('every pod runs as non-root on a read-only root filesystem with no capabilities, /tmp an emptyDir', () => {
    for (const r of [defaults, production]) {
      for (const o of [...ofKind(r.objects, 'Deployment'), ...ofKind(r.objects, 'Job')]) {
        const spec = podSpec(o);
        expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
        expect(spec.automountServiceAccountToken).toBe(false);
        for (const c of spec.containers) {
          expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
          expect(c.volumeMounts).toEqual(expect.arrayContaining([{ name: 'tmp', mountPath: '/tmp' }]));
        }
        expect(spec.volumes.find((v: any) => v.name === 'tmp')?.emptyDir).toBeDefined();
      }
    }
  });

  test('every directory a service writes to is a mounted volume (the root filesystem is read-only)', () => {
    for (const r of [defaults, production]) {
      for (const d of ofKind(r.objects, 'Deployment')) {
        const mounts: Array<{ name: string; mountPath: string }> = container(d).volumeMounts;
        for (const entry of envOf(d).filter((e) => /_DIR$/.test(e.name))) {
          expect([d.metadata.name, entry.name, mounts.some((m) => entry.value === m.mountPath || entry.value?.startsWith(`${m.mountPath}/`))]).toEqual([d.metadata.name, entry.name, true]);
        }
      }
    }
    // With retention on, the audit archive (the evidence for deleted events) is the persistent claim.
    const audit = deployment(production, 'audit');
    expect(envEntry(audit, 'AUDIT_RETENTION_ENABLED')?.value).toBe('true');
    expect(podSpec(audit).volumes.find((v: any) => v.name === 'audit-archive')?.persistentVolumeClaim).toEqual({ claimName: `${PREFIX}-audit-archive` });
    expect(envEntry(deployment(defaults, 'audit'), 'AUDIT_RETENTION_ENABLED')?.value).toBe('false');
    // Chain heads are witnessed on the archive volume, outside the database.
    expect(envEntry(audit, 'AUDIT_WITNESS_DIR')?.value).toBe('/var/lib/orchestra/audit-archive/witness');
    expect(envEntry(audit, 'AUDIT_WITNESS_INTERVAL_MS')?.value).toBe('60000');
  });

  test('the environment of every Deployment and the Job satisfies the config schema of the service it runs', () => {
    // The services' own zod schemas, loaded by package name (each workspace's index exports its config schema).
    const schemaOf = (pkg: string): Parameters<typeof loadConfig>[0] => {
      const mod = jest.requireActual<Record<string, unknown>>(pkg);
      const found = Object.entries(mod).find(([name]) => /ConfigSchema$/.test(name));
      if (!found) throw new Error(`${pkg} exports no *ConfigSchema`);
      return found[1] as Parameters<typeof loadConfig>[0];
    };
    const packages: Record<string, string> = {
      gateway: '@orchestra/gateway',
      identity: '@orchestra/identity',
      catalog: '@orchestra/catalog',
      orchestration: '@orchestra/orchestration',
      audit: '@orchestra/audit',
      notifications: '@orchestra/notifications',
      worker: '@orchestra/workers',
    };
    const downward = { 'metadata.name': 'orch-orchestra-worker-a100-7d9f-x2x', 'status.podIP': '10.42.0.17' };
    const generated = decodeSecret(named(defaults.objects, 'Secret', `${PREFIX}-secrets`));
    const fakeKeys = {
      INTERNAL_TOKEN: 'x'.repeat(48),
      WORKER_AUTH_SECRETS: 'w'.repeat(48),
      TWO_FACTOR_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      SECRETS_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
      PRINCIPAL_PRIVATE_KEY: generated['PRINCIPAL_PRIVATE_KEY']!,
      PRINCIPAL_PUBLIC_KEY: generated['PRINCIPAL_PUBLIC_KEY']!,
    };
    const cases: Array<[Rendered, Record<string, Record<string, string>>]> = [
      [defaults, { [`${PREFIX}-secrets`]: generated }],
      [
        production,
        {
          'orchestra-keys': fakeKeys,
          'orchestra-postgres-app': { uri: 'postgresql://app:pw@pg-rw.databases:5432/orchestra?sslmode=require' },
          'orchestra-redis': { url: 'rediss://:pw@redis.databases:6380' },
          'orchestra-smtp': { url: 'smtps://relay:pw@smtp.mail:465' },
          'orchestra-first-admin': { password: 'a long first admin password' },
          'orchestra-artifacts-s3': { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example-secret-access-key' },
        },
      ],
    ];
    for (const [r, secrets] of cases) {
      for (const d of ofKind(r.objects, 'Deployment')) {
        const component = componentOf(d);
        const env = resolveEnv(d, secrets, downward);
        const config = loadConfig(schemaOf(packages[component]!), env);
        expect(config['HOST']).toBe('0.0.0.0');
        // Identity mails password reset links: in production (the image's NODE_ENV) it needs an SMTP server.
        // Notifications mails too (notification e-mails and digests), through the same relay.
        if (component === 'identity' || component === 'notifications') {
          expect(config['SMTP_URL']).toBe(r === production ? 'smtps://relay:pw@smtp.mail:465' : 'smtp://smtp:25');
          expect(config['MAIL_FROM']).toMatch(/^Orchestra </);
        }
        // Links in notification e-mails point at the app: the ingress host where there is one.
        if (component === 'notifications' && r === production) expect(config['PUBLIC_URL']).toBe('https://orchestra.internal.example');
        // Identity seals TOTP secrets with TWO_FACTOR_KEYS (required in production): generated, or from the keys Secret.
        if (component === 'identity') expect((config['TWO_FACTOR_KEYS'] as { active: { key: Buffer } } | undefined)?.active.key.length).toBe(32);
        // Orchestration seals organizations' secrets, identity SSO client secrets, with SECRETS_KEYS: generated, or from the keys Secret.
        if (component === 'orchestration' || component === 'identity') expect((config['SECRETS_KEYS'] as { active: { key: Buffer } } | undefined)?.active.key.length).toBe(32);
        // Every subgraph relays its notification outbox to the notifications service.
        if ((SUBGRAPHS as readonly string[]).includes(component)) expect(env['NOTIFICATIONS_GRPC_ADDR']).toBe(`dns:///${PREFIX}-notifications-grpc:${GRPC_PORTS['notifications']}`);
        if (component === 'worker') {
          expect(config['ADVERTISE_ADDR']).toBe(`10.42.0.17:${GRPC_PORTS['worker']}`);
          expect(config['WORKER_ID']).toBe(downward['metadata.name']);
          expect(config['ORCHESTRATION_GRPC_ADDR']).toBe(`dns:///${PREFIX}-orchestration-grpc:${GRPC_PORTS['orchestration']}`);
        }
      }
      const job = ofKind(r.objects, 'Job')[0]!;
      const jobEnv = resolveEnv(job, secrets, downward);
      expect(jobEnv['DATABASE_URL']).toMatch(/^postgres(ql)?:\/\//);
    }
  });

  test('a worker holds its own token, minted in its pod for its name, never the services\' token or any shared secret', () => {
    const generated = decodeSecret(named(defaults.objects, 'Secret', `${PREFIX}-secrets`));
    expect(generated['WORKER_AUTH_SECRETS']!.length).toBeGreaterThanOrEqual(32);
    const podName = 'orch-orchestra-worker-gpu-7d9f-x2x';
    for (const r of [defaults, production]) {
      for (const d of workerDeployments(r)) {
        const names = envOf(d).map((e) => e.name);
        for (const forbidden of ['INTERNAL_TOKEN', 'WORKER_AUTH_SECRETS', 'DATABASE_URL', 'PRINCIPAL_PUBLIC_KEY', 'PRINCIPAL_PRIVATE_KEY']) expect([d.metadata.name, forbidden, names.includes(forbidden)]).toEqual([d.metadata.name, forbidden, false]);
        const [init, ...others] = podSpec(d).initContainers;
        expect(others).toEqual([]);
        expect(init.name).toBe('worker-token');
        expect(init.env.find((e: { name: string }) => e.name === 'WORKER_AUTH_SECRETS').valueFrom.secretKeyRef.key).toBe('WORKER_AUTH_SECRETS');
        const tokenFile = envEntry(d, 'WORKER_TOKEN_FILE')!.value!;
        const mount = container(d).volumeMounts.find((m: { name: string }) => m.name === 'worker-token');
        expect(mount).toEqual({ name: 'worker-token', mountPath: tokenFile.slice(0, tokenFile.lastIndexOf('/')), readOnly: true });
        expect(podSpec(d).volumes.find((v: { name: string }) => v.name === 'worker-token').emptyDir.medium).toBe('Memory');
      }
    }
    // Run the init container's command as the kubelet would (its $(POD_NAME) expanded), writing where the
    // worker reads: the worker's config then takes that token, its id is the pod's name, and the
    // orchestration service (holding the same secret) accepts it for that id.
    const worker = workerDeployments(defaults)[0]!;
    const init = podSpec(worker).initContainers[0];
    const dir = mkdtempSync(join(tmpdir(), 'orchestra-worker-token-'));
    const tokenFile = envEntry(worker, 'WORKER_TOKEN_FILE')!.value!;
    const argv: string[] = init.command.map((a: string) => a.replace('$(POD_NAME)', podName).replace(tokenFile.slice(0, tokenFile.lastIndexOf('/')), dir));
    const [node, ...args] = argv;
    expect(node).toBe('node');
    // The command runs the compiled CLI, as the image does (scripts/test-all.mjs builds dist/ first).
    if (process.env['ORCHESTRA_DIST_BUILT'] !== '1') execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-dist.mjs')], { stdio: 'pipe' });
    execFileSync(process.execPath, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', WORKER_AUTH_SECRETS: generated['WORKER_AUTH_SECRETS']! }, encoding: 'utf8' });
    const config = loadWorkerConfig({ ...resolveEnv(worker, {}, { 'metadata.name': podName, 'status.podIP': '10.42.0.9' }), WORKER_TOKEN_FILE: join(dir, tokenFile.slice(tokenFile.lastIndexOf('/') + 1)) });
    expect(config.WORKER_ID).toBe(podName);
    expect(createWorkerAuthority([generated['WORKER_AUTH_SECRETS']!]).verifyWorkerToken(config.WORKER_TOKEN)).toBe(podName);
    // The orchestration service holds the secret; no other service does.
    for (const d of ofKind(defaults.objects, 'Deployment').filter((o) => componentOf(o) !== 'worker')) {
      expect([componentOf(d), envEntry(d, 'WORKER_AUTH_SECRETS') !== undefined]).toEqual([componentOf(d), componentOf(d) === 'orchestration']);
    }
  });

  test('the gateway routes each subgraph to its Service and reaches identity over HTTP and gRPC', () => {
    const gateway = deployment(defaults, 'gateway');
    for (const s of SUBGRAPHS) expect(envEntry(gateway, `SUBGRAPH_${s.toUpperCase()}_URL`)?.value).toBe(`http://${PREFIX}-${s}:${HTTP_PORTS[s]}/graphql`);
    expect(envEntry(gateway, 'IDENTITY_HTTP_URL')?.value).toBe(`http://${PREFIX}-identity:${HTTP_PORTS['identity']}`);
    expect(envEntry(gateway, 'IDENTITY_GRPC_ADDR')?.value).toBe(`dns:///${PREFIX}-identity-grpc:${GRPC_PORTS['identity']}`);
    // Subgraphs deliver audit events to the audit service.
    for (const s of SUBGRAPHS) expect(envEntry(deployment(defaults, s), 'AUDIT_GRPC_ADDR')?.value).toBe(`dns:///${PREFIX}-audit-grpc:${GRPC_PORTS['audit']}`);
  });

  test('tracing.otlpEndpoint makes every process export spans there; unset, none is configured', () => {
    const traced = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['tracing.otlpEndpoint=http://otel-collector.observability:4318'] });
    const all = ofKind(traced.objects, 'Deployment');
    expect(all.map(componentOf).sort()).toEqual(['audit', 'catalog', 'gateway', 'identity', 'notifications', 'orchestration', 'worker', 'worker']);
    for (const d of all) {
      expect([d.metadata.name, envEntry(d, 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value, envEntry(d, 'OTEL_BSP_SCHEDULE_DELAY')?.value]).toEqual([d.metadata.name, 'http://otel-collector.observability:4318', '2000']);
    }
    for (const d of ofKind(defaults.objects, 'Deployment')) expect(envEntry(d, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toBeUndefined();
    expect(() => render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['tracing.otlpEndpoint=otel-collector:4318'] })).toThrow(/otlpEndpoint/);
    expect(() => render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['mail.smtpUrl='] })).toThrow(/mail.smtpUrl or mail.existingSecret is required/);
  });

  test('gRPC clients reach every pod of a service: a headless -grpc Service per subgraph, dialled as dns:///', () => {
    for (const s of SUBGRAPHS) {
      const svc = ofKind(defaults.objects, 'Service').find((o) => o.metadata.name === `${PREFIX}-${s}-grpc`) as any;
      expect([s, svc?.spec?.clusterIP, svc?.spec?.ports?.map((p: any) => p.name)]).toEqual([s, 'None', ['grpc']]);
    }
  });

  test('the gateway believes X-Forwarded-For only from the proxies the values name', () => {
    expect(envEntry(deployment(defaults, 'gateway'), 'TRUSTED_PROXIES')).toBeUndefined();
    expect(envEntry(deployment(production, 'gateway'), 'TRUSTED_PROXIES')?.value).toBe('10.0.0.0/8');
  });
});

describe('the image', () => {
  const dockerfile = () => readFileSync(`${ROOT}/Dockerfile`, 'utf8');
  /** .dockerignore as Docker reads it: later lines win, `!` re-includes, `*` stays within a path segment. */
  const ignoredByDocker = (path: string): boolean => {
    let ignored = false;
    for (const raw of readFileSync(`${ROOT}/.dockerignore`, 'utf8').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).replace(/\/$/, '');
      const regex = new RegExp(`^${pattern.split('**').map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*')}(/.*)?$`);
      if (regex.test(path)) ignored = !negated;
    }
    return ignored;
  };

  test('the Dockerfile installs with the manifest of every workspace, so npm keeps the committed lockfile', () => {
    const workspaces = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { workspaces: string[] }).workspaces;
    for (const workspace of workspaces) {
      expect([workspace, dockerfile().includes(`COPY ${workspace}/package.json ${workspace}/`)]).toEqual([workspace, true]);
      expect([workspace, ignoredByDocker(`${workspace}/package.json`)]).toEqual([workspace, false]);
    }
    expect(dockerfile()).toMatch(/^RUN .*npm install\b/m);
    expect(dockerfile()).not.toMatch(/^RUN .*npm ci\b/m);
    expect(dockerfile()).toMatch(/^USER 10001:10001$/m);
  });

  test('every service the chart starts is in the repository and in the image', () => {
    const entries = new Set([...ofKind(production.objects, 'Deployment'), ...ofKind(production.objects, 'Job')].map((d) => container(d).command[2] as string));
    expect(entries.size).toBe(8);
    expect(entries).toContain('scripts/dist/migrate.js');
    for (const entry of entries) {
      // Each is compiled from a source in the repository (scripts/build-dist.mjs) that the image builds,
      // and its dist/ is copied into the runtime stage.
      const source = entry.replace('/dist/', entry.startsWith('scripts/') ? '/' : '/src/').replace(/\.js$/, '.ts');
      expect([source, existsSync(`${ROOT}/${source}`)]).toEqual([source, true]);
      expect([source, ignoredByDocker(source)]).toEqual([source, false]);
      const distDir = entry.slice(0, entry.indexOf('/dist/') + '/dist'.length);
      expect([distDir, dockerfile().includes(`COPY --from=dist /app/${distDir} ${distDir}`)]).toEqual([distDir, true]);
    }
    expect(ignoredByDocker('tests/helm/chart.test.ts')).toBe(true);
    expect(ignoredByDocker('lib/src/config.test.ts')).toBe(true);
    expect(ignoredByDocker('gateway/node_modules/x/index.js')).toBe(true);
  });

  test('a changed database URL rolls the pods, and a render with generated keys is otherwise stable', () => {
    const checksum = (r: Rendered) => new Set(ofKind(r.objects, 'Deployment').map((d) => d.spec.template.metadata.annotations?.['checksum/secret-inputs']));
    const again = render(helmBinary, { release: RELEASE, namespace: NAMESPACE });
    const moved = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['database.url=postgres://orchestra@db-2.internal:5432/orchestra'] });
    expect(checksum(defaults).size).toBe(1);
    expect(checksum(again)).toEqual(checksum(defaults));
    expect([...checksum(moved)][0]).not.toBe([...checksum(defaults)][0]);
  });
});

describe('GPU workers', () => {
  test('the default worker group requests a GPU and is scheduled on GPU nodes', () => {
    const [worker] = workerDeployments(defaults);
    const c = container(worker!);
    expect(c.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(c.resources.requests['nvidia.com/gpu']).toBe('1');
    expect(podSpec(worker!).nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(podSpec(worker!).tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  test('each production group gets its own pool, slots, labels, GPU count and node placement; the CPU group gets no GPU', () => {
    const byGroup = Object.fromEntries(workerDeployments(production).map((d) => [podLabels(d)['orchestra.dev/worker-group'], d]));
    const a100 = byGroup['a100']!;
    const l4 = byGroup['l4']!;
    const cpu = byGroup['cpu']!;

    expect(a100.spec.replicas).toBe(4);
    expect(container(a100).resources.limits['nvidia.com/gpu']).toBe('2');
    expect(container(a100).resources.requests).toMatchObject({ 'nvidia.com/gpu': '2', cpu: '8', memory: '64Gi' });
    expect(podSpec(a100).nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true', 'node.kubernetes.io/instance-type': 'p4d.24xlarge' });
    expect(podSpec(a100).runtimeClassName).toBe('nvidia');
    expect(envEntry(a100, 'WORKER_POOL')?.value).toBe('training');
    expect(envEntry(a100, 'WORKER_SLOTS')?.value).toBe('2');
    expect(envEntry(a100, 'WORKER_LABELS')?.value).toBe('gpu=a100,tier=large');
    expect(envEntry(a100, 'WORKER_DRAIN_GRACE_MS')?.value).toBe('600000');
    // The pod outlives the drain grace, so running tasks can finish before the kubelet kills it.
    expect(podSpec(a100).terminationGracePeriodSeconds).toBeGreaterThan(600);

    expect(container(l4).resources.limits['nvidia.com/gpu']).toBe('1');
    expect(podSpec(l4).tolerations).toEqual(
      expect.arrayContaining([
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'workload', operator: 'Equal', value: 'inference', effect: 'NoSchedule' },
      ]),
    );
    expect(envEntry(l4, 'WORKER_POOL')?.value).toBe('inference');
    expect(envEntry(l4, 'WORKER_CAPABILITIES')?.value).toBe('http.request,transform');

    // gpu.count: 0 must win over the default of 1, and the GPU placement must not apply.
    expect(container(cpu).resources.limits?.['nvidia.com/gpu']).toBeUndefined();
    expect(container(cpu).resources.requests?.['nvidia.com/gpu']).toBeUndefined();
    expect(podSpec(cpu).nodeSelector).toBeUndefined();
    expect(podSpec(cpu).tolerations).toBeUndefined();
    expect(podSpec(cpu).runtimeClassName).toBeUndefined();
    expect(envEntry(cpu, 'WORKER_SLOTS')?.value).toBe('16');

    // GPUs are scarce: a rollout never needs a surge pod (one more GPU).
    for (const d of [a100, l4]) expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  test('worker groups are not autoscaled by CPU, and each has a disruption budget over its own pods', () => {
    for (const hpa of ofKind(production.objects, 'HorizontalPodAutoscaler')) expect(hpa.spec.scaleTargetRef.name).not.toMatch(/worker/);
    for (const d of workerDeployments(production)) {
      const pdbs = ofKind(production.objects, 'PodDisruptionBudget').filter((p) => selects(p.spec.selector, podLabels(d)));
      expect(pdbs.map((p) => p.metadata.name)).toEqual([d.metadata.name]);
    }
  });
});

describe('browser workers', () => {
  test('a browser group runs the chromium image on CPU nodes, with /dev/shm in memory, room for profiles and its own memory', () => {
    for (const r of [defaults, production]) {
      const byGroup: Record<string, K8sObject> = Object.fromEntries(workerDeployments(r).map((d) => [podLabels(d)['orchestra.dev/worker-group'], d]));
      const browser = byGroup['browser']!;
      const c = container(browser);
      expect(c.image).toMatch(/orchestra-browser:[^:]+$/);
      expect(envEntry(browser, 'BROWSER_EXECUTABLE_PATH')?.value).toBe('/usr/bin/chromium');
      expect(envEntry(browser, 'WORKER_POOL')?.value).toBe('browser');
      expect(envEntry(browser, 'WORKER_CAPABILITIES')?.value).toBe('browser,http.request,transform,noop');
      expect(envEntry(browser, 'TMPDIR')?.value).toBe('/var/tmp/browser');
      // Apart from the GPU groups: no GPU, no GPU placement.
      expect(c.resources.limits['nvidia.com/gpu']).toBeUndefined();
      expect(podSpec(browser).nodeSelector).toBeUndefined();
      expect(podSpec(browser).tolerations).toBeUndefined();
      expect(Number.parseInt(c.resources.requests.memory, 10)).toBeGreaterThanOrEqual(4);
      const shm = podSpec(browser).volumes.find((v: { name: string }) => v.name === 'dshm');
      expect(shm.emptyDir.medium).toBe('Memory');
      expect(c.volumeMounts).toEqual(expect.arrayContaining([{ name: 'dshm', mountPath: '/dev/shm' }, { name: 'browser-profiles', mountPath: '/var/tmp/browser' }]));
      // The other groups have no browser (their image has no chromium).
      for (const [group, d] of Object.entries(byGroup)) {
        if (group !== 'browser') expect(envEntry(d, 'BROWSER_EXECUTABLE_PATH')).toBeUndefined();
      }
    }
    const browser = workerDeployments(production).find((d) => podLabels(d)['orchestra.dev/worker-group'] === 'browser')!;
    expect(envEntry(browser, 'BROWSER_MAX_CONTEXTS')?.value).toBe('4');
    expect(podSpec(browser).volumes.find((v: { name: string }) => v.name === 'dshm').emptyDir.sizeLimit).toBe('2Gi');
  });

  test('workers write artifacts where the values say: the pod\'s /tmp by default, the S3 bucket in production with credentials from a Secret', () => {
    const [worker] = workerDeployments(defaults);
    expect(envEntry(worker!, 'ARTIFACT_STORE')?.value).toBe('fs');
    expect(envEntry(worker!, 'ARTIFACT_DIR')?.value).toBe('/tmp/artifacts');
    for (const d of workerDeployments(production)) {
      expect(envEntry(d, 'ARTIFACT_STORE')?.value).toBe('s3');
      expect(envEntry(d, 'ARTIFACT_S3_BUCKET')?.value).toBe('orchestra-artifacts');
      expect(envEntry(d, 'AWS_SECRET_ACCESS_KEY')?.valueFrom).toEqual({ secretKeyRef: { name: 'orchestra-artifacts-s3', key: 'AWS_SECRET_ACCESS_KEY' } });
    }
    const refused = helm(helmBinary, renderArgs({ release: RELEASE, namespace: NAMESPACE, set: ['artifacts.store=s3'] }));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('artifacts.s3.bucket');
  });
});

describe('autoscaling and disruption', () => {
  test('every stateless service has an HPA on its Deployment, which then leaves replicas to it, and a PDB over its pods', () => {
    for (const r of [defaults, production]) {
      for (const component of STATELESS) {
        const d = deployment(r, component);
        const hpa = named(r.objects, 'HorizontalPodAutoscaler', d.metadata.name);
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name });
        expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
        expect(d.spec.replicas).toBeUndefined();
        const pdbs = ofKind(r.objects, 'PodDisruptionBudget').filter((p) => selects(p.spec.selector, podLabels(d)));
        expect(pdbs).toHaveLength(1);
      }
    }
  });

  test('with autoscaling off the Deployment carries the replica count and no HPA is rendered', () => {
    const r = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['gateway.autoscaling.enabled=false', 'gateway.replicas=3'] });
    expect(deployment(r, 'gateway').spec.replicas).toBe(3);
    expect(r.objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === `${PREFIX}-gateway`)).toBeUndefined();
  });
});

describe('network policies', () => {
  const inNamespace = (labels: Record<string, string>): Peer => ({ podLabels: labels, namespace: NAMESPACE, namespaceLabels: { 'kubernetes.io/metadata.name': NAMESPACE } });
  const podOf = (r: Rendered, component: string): Peer => inNamespace(podLabels(component === 'worker' ? workerDeployments(r)[0]! : deployment(r, component)));
  const stranger = (namespace: string): Peer => ({ podLabels: { app: 'something-else' }, namespace, namespaceLabels: { 'kubernetes.io/metadata.name': namespace } });
  const otherRelease: Peer = inNamespace({ 'app.kubernetes.io/name': 'orchestra', 'app.kubernetes.io/instance': 'other', 'app.kubernetes.io/component': 'gateway' });
  const target = (r: Rendered, component: string, portName: 'http' | 'grpc' | 'ops') => {
    const d = component === 'worker' ? workerDeployments(r)[0]! : deployment(r, component);
    return { namespace: NAMESPACE, podLabels: podLabels(d), namedPorts: namedPorts(d), port: namedPorts(d)[portName]! };
  };

  test.each([
    ['default values', () => defaults],
    ['production values', () => production],
  ])('with the %s only the gateway reaches the subgraphs\' HTTP ports', (_name, rendered) => {
    const r = rendered();
    const policies = ofKind(r.objects, 'NetworkPolicy');
    for (const s of SUBGRAPHS) {
      const http = target(r, s, 'http');
      expect(admits(policies, podOf(r, 'gateway'), http)).toBe(true);
      for (const other of [...SUBGRAPHS, 'worker']) expect([other, admits(policies, podOf(r, other), http)]).toEqual([other, false]);
      expect(admits(policies, stranger(NAMESPACE), http)).toBe(false);
      expect(admits(policies, stranger('default'), http)).toBe(false);
      expect(admits(policies, otherRelease, http)).toBe(false);
    }
  });

  test('the subgraphs\' gRPC ports admit this release\'s pods only, workers only the orchestration service\'s; workers\' gRPC admits the orchestration service only', () => {
    for (const r of [defaults, production]) {
      const policies = ofKind(r.objects, 'NetworkPolicy');
      for (const s of SUBGRAPHS) {
        const grpc = target(r, s, 'grpc');
        for (const caller of ['gateway', ...SUBGRAPHS]) expect([caller, admits(policies, podOf(r, caller), grpc)]).toEqual([caller, true]);
        // A worker calls WorkerRegistry (orchestration) and nothing else (issue 9 item 14).
        expect([s, admits(policies, podOf(r, 'worker'), grpc)]).toEqual([s, s === 'orchestration']);
        expect(admits(policies, stranger(NAMESPACE), grpc)).toBe(false);
        expect(admits(policies, otherRelease, grpc)).toBe(false);
      }
      const workerGrpc = target(r, 'worker', 'grpc');
      expect(admits(policies, podOf(r, 'orchestration'), workerGrpc)).toBe(true);
      for (const caller of ['gateway', 'identity', 'catalog', 'audit']) expect([caller, admits(policies, podOf(r, caller), workerGrpc)]).toEqual([caller, false]);
      expect(admits(policies, stranger(NAMESPACE), workerGrpc)).toBe(false);
    }
  });

  test('the gateway admits anyone by default, and only the ingress controller and scrapers where configured', () => {
    expect(admits(ofKind(defaults.objects, 'NetworkPolicy'), stranger('default'), target(defaults, 'gateway', 'http'))).toBe(true);
    const policies = ofKind(production.objects, 'NetworkPolicy');
    expect(admits(policies, stranger('ingress-nginx'), target(production, 'gateway', 'http'))).toBe(true);
    expect(admits(policies, stranger('default'), target(production, 'gateway', 'http'))).toBe(false);
    // Prometheus (monitoring namespace) may scrape every HTTP port, workers included, and nothing on gRPC.
    for (const component of ['identity', 'worker']) {
      expect(admits(policies, stranger('monitoring'), target(production, component, 'http'))).toBe(true);
      expect(admits(policies, stranger('monitoring'), target(production, component, 'grpc'))).toBe(false);
    }
    expect(admits(ofKind(defaults.objects, 'NetworkPolicy'), stranger('monitoring'), target(defaults, 'identity', 'http'))).toBe(false);
    // The gateway's ops port (/readyz in detail, /metrics) admits the scrapers, not the public.
    expect(admits(policies, stranger('monitoring'), target(production, 'gateway', 'ops'))).toBe(true);
    expect(admits(policies, stranger('ingress-nginx'), target(production, 'gateway', 'ops'))).toBe(false);
    expect(admits(ofKind(defaults.objects, 'NetworkPolicy'), stranger('default'), target(defaults, 'gateway', 'ops'))).toBe(false);
  });

  test('`helm test` checks the gateway through its Service, and the gateway\'s policy lets it in', () => {
    for (const r of [defaults, production]) {
      const pod = named(r.objects, 'Pod', `${PREFIX}-test-gateway`);
      expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
      const service = named(r.objects, 'Service', `${PREFIX}-gateway`);
      expect(pod.spec.containers[0].command.at(-1)).toBe(`http://${service.metadata.name}:${service.spec.ports[0].port}`);
      expect(pod.spec.containers[0].command.join(' ')).toMatch(/\/healthz.*\/readyz/);
      expect(pod.spec.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(admits(ofKind(r.objects, 'NetworkPolicy'), inNamespace(pod.metadata.labels!), target(r, 'gateway', 'http'))).toBe(true);
    }
  });

  test('the evaluator of this test admits everything when the policies are turned off (it can fail)', () => {
    const open = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['networkPolicy.enabled=false'] });
    expect(ofKind(open.objects, 'NetworkPolicy')).toHaveLength(0);
    expect(admits([], podOf(open, 'worker'), target(open, 'identity', 'http'))).toBe(true);
  });
});

describe('gRPC TLS between the services (issue 9 item 14)', () => {
  const MOUNT = '/var/run/orchestra/grpc-tls';
  const CERT_MANAGER = ['grpcTls.enabled=true', 'grpcTls.certManager.enabled=true', 'grpcTls.certManager.issuerRef.name=orchestra-ca', 'grpcTls.certManager.issuerRef.kind=ClusterIssuer'];
  const schemaOf = (pkg: string): Parameters<typeof loadConfig>[0] => {
    const mod = jest.requireActual<Record<string, unknown>>(pkg);
    const found = Object.entries(mod).find(([name]) => /ConfigSchema$/.test(name));
    if (!found) throw new Error(`${pkg} exports no *ConfigSchema`);
    return found[1] as Parameters<typeof loadConfig>[0];
  };
  const packages: Record<string, string> = { gateway: '@orchestra/gateway', identity: '@orchestra/identity', catalog: '@orchestra/catalog', orchestration: '@orchestra/orchestration', audit: '@orchestra/audit', notifications: '@orchestra/notifications', worker: '@orchestra/workers' };
  const downward = { 'metadata.name': 'orch-orchestra-worker-gpu-7d9f-x2x', 'status.podIP': '10.42.0.17' };
  /** The volume a container mounts at `path`, as the pod declares it. */
  const volumeAt = (d: K8sObject, path: string): any => {
    const mount = (container(d).volumeMounts ?? []).find((m: { mountPath: string }) => m.mountPath === path);
    return mount === undefined ? undefined : { mount, volume: (podSpec(d).volumes ?? []).find((v: { name: string }) => v.name === mount.name) };
  };

  test('is off by default: no process is given GRPC_TLS_DIR, no Certificate is rendered', () => {
    for (const d of ofKind(defaults.objects, 'Deployment')) {
      expect([d.metadata.name, envEntry(d, 'GRPC_TLS_DIR')]).toEqual([d.metadata.name, undefined]);
      expect(volumeAt(d, MOUNT)).toBeUndefined();
    }
    expect(ofKind(defaults.objects, 'Certificate')).toHaveLength(0);
  });

  test.each([
    ['an existing Secret', ['grpcTls.enabled=true', 'grpcTls.existingSecret=my-grpc-tls'], 'my-grpc-tls'],
    ['a cert-manager Certificate', CERT_MANAGER, `${PREFIX}-grpc-tls`],
  ])('with %s every service and worker mounts the TLS Secret and its config reads it as GRPC_TLS_DIR, mutual', (_what, set, secretName) => {
    const r = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set });
    const secrets = { [`${PREFIX}-secrets`]: decodeSecret(named(r.objects, 'Secret', `${PREFIX}-secrets`)) };
    const deployments = ofKind(r.objects, 'Deployment');
    expect(new Set(deployments.map(componentOf))).toEqual(new Set(['gateway', ...SUBGRAPHS, 'worker']));
    for (const d of deployments) {
      const config = loadConfig(schemaOf(packages[componentOf(d)]!), resolveEnv(d, secrets, downward));
      expect([d.metadata.name, config['GRPC_TLS_DIR'], config['GRPC_TLS_MUTUAL']]).toEqual([d.metadata.name, MOUNT, true]);
      const mounted = volumeAt(d, MOUNT);
      expect(mounted?.mount.readOnly).toBe(true);
      expect(mounted?.volume.secret.secretName).toBe(secretName);
      // The key is readable by the pod's group (fsGroup), not by everyone.
      expect(mounted?.volume.secret.defaultMode).toBe(0o440);
      expect(podSpec(d).securityContext.fsGroup).toBeDefined();
      new models['apps/v1/Deployment']!(d).validate();
    }
    // Workers are dialled by pod address: the orchestration service checks their certificate for a fixed name.
    expect(envEntry(deployment(r, 'orchestration'), 'WORKER_TLS_SERVER_NAME')?.value).toBe(`${PREFIX}-worker`);
    expect(ofKind(r.objects, 'Certificate')).toHaveLength(secretName === 'my-grpc-tls' ? 0 : 1);
  });

  test('the cert-manager Certificate names every gRPC address a process dials, serves and authenticates clients, and fills the mounted Secret', () => {
    const r = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: CERT_MANAGER });
    const certificate = named(r.objects, 'Certificate', `${PREFIX}-grpc-tls`);
    expect(certificate.apiVersion).toBe('cert-manager.io/v1');
    expect(certificate.spec.secretName).toBe(`${PREFIX}-grpc-tls`);
    expect(certificate.spec.issuerRef).toEqual({ name: 'orchestra-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    expect(certificate.spec.usages).toEqual(expect.arrayContaining(['server auth', 'client auth']));
    const dialled = new Set<string>();
    for (const d of ofKind(r.objects, 'Deployment')) {
      for (const e of envOf(d)) {
        if (!e.name.endsWith('_GRPC_ADDR') || e.value === undefined) continue;
        const host = /^dns:\/\/\/([^:]+):\d+$/.exec(e.value)?.[1];
        expect([e.name, host]).toEqual([e.name, expect.any(String)]);
        dialled.add(host!);
      }
    }
    expect(dialled.size).toBe(SUBGRAPHS.length);
    for (const host of [...dialled, `${PREFIX}-worker`]) expect(certificate.spec.dnsNames).toContain(host);
  });

  test('refuses TLS without a Secret or cert-manager, and cert-manager without an issuer, saying what to set', () => {
    const bare = helm(helmBinary, renderArgs({ set: ['grpcTls.enabled=true'] }));
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/grpcTls\.existingSecret .* or grpcTls\.certManager\.enabled/);
    const noIssuer = helm(helmBinary, renderArgs({ set: ['grpcTls.enabled=true', 'grpcTls.certManager.enabled=true'] }));
    expect(noIssuer.status).not.toBe(0);
    expect(noIssuer.stderr).toMatch(/grpcTls\.certManager\.issuerRef\.name/);
    const misspelt = helm(helmBinary, renderArgs({ set: ['grpcTls.mutal=false'] }));
    expect(misspelt.stderr).toMatch(/additional properties 'mutal'/);
  });

  test('mutual TLS can be turned off (servers then accept clients without a certificate)', () => {
    const r = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['grpcTls.enabled=true', 'grpcTls.existingSecret=s', 'grpcTls.mutual=false'] });
    for (const d of ofKind(r.objects, 'Deployment')) expect(envEntry(d, 'GRPC_TLS_MUTUAL')?.value).toBe('false');
  });
});

describe('ingress', () => {
  test('the ingress routes to the gateway Service\'s port with WebSocket-friendly timeouts and TLS', () => {
    const ingress = ofKind(production.objects, 'Ingress')[0]!;
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
      'cert-manager.io/cluster-issuer': 'letsencrypt',
    });
    expect(ingress.spec.tls).toEqual([{ secretName: 'orchestra-tls', hosts: ['orchestra.internal.example'] }]);
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    const service = named(production.objects, 'Service', backend.name);
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(backend.port.name);
    expect(service.spec.selector['app.kubernetes.io/component']).toBe('gateway');
  });
});

describe('migrations', () => {
  test('the migration Job is a pre-install and pre-upgrade hook that runs every service\'s migrations', () => {
    for (const r of [defaults, production]) {
      const job = named(r.objects, 'Job', `${PREFIX}-migrate`);
      const annotations = job.metadata.annotations ?? {};
      expect(annotations['helm.sh/hook']!.split(',').sort()).toEqual(['pre-install', 'pre-upgrade']);
      expect(annotations['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
      expect(container(job).command).toEqual(['node', '--conditions=orchestra-dist', 'scripts/dist/migrate.js']);
      expect(podSpec(job).restartPolicy).toBe('Never');
      expect(envEntry(job, 'MIGRATE_SERVICES')?.value).toBe('identity,catalog,orchestration,audit,notifications');
      expect(envEntry(job, 'DATABASE_URL')?.valueFrom?.secretKeyRef).toBeDefined();
    }
    // The Secret the Job reads exists before it: a hook of the same phases with a lower weight.
    const secret = named(defaults.objects, 'Secret', `${PREFIX}-secrets`);
    const job = named(defaults.objects, 'Job', `${PREFIX}-migrate`);
    expect(secret.metadata.annotations?.['helm.sh/hook']).toBe(job.metadata.annotations?.['helm.sh/hook']);
    expect(Number(secret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations?.['helm.sh/hook-weight']));
    // And it does not depend on the release's ServiceAccount, which does not exist yet on a first install.
    expect(podSpec(job).serviceAccountName).toBe('default');
  });

  test('the Job migrates only the services the release runs', () => {
    const r = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['catalog.enabled=false'] });
    expect(envEntry(named(r.objects, 'Job', `${PREFIX}-migrate`), 'MIGRATE_SERVICES')?.value).toBe('identity,orchestration,audit,notifications');
  });

  test('migrations.enabled=false renders no Job', () => {
    const r = render(helmBinary, { release: RELEASE, namespace: NAMESPACE, set: ['migrations.enabled=false'] });
    expect(ofKind(r.objects, 'Job')).toHaveLength(0);
  });
});

describe('secrets', () => {
  // A *_FILE variable names where a secret is (the worker's token file), it is not one.
  const SECRET_ENV = /^(?!.*_FILE$).*(TOKEN|PASSWORD|PRIVATE_KEY|PUBLIC_KEY|SECRET|DATABASE_URL|REDIS_URL)/;

  test('database and Redis passwords given as values land only in the Secret, never in a pod spec', () => {
    const r = render(helmBinary, {
      release: RELEASE,
      namespace: NAMESPACE,
      set: ['database.url=postgres://orchestra:Db-Pa55word-1@db.internal:5432/orchestra', 'redis.url=rediss://:Redis-Pa55word-2@cache.internal:6380'],
    });
    expect(r.text).not.toContain('Db-Pa55word-1');
    expect(r.text).not.toContain('Redis-Pa55word-2');
    const secret = decodeSecret(named(r.objects, 'Secret', `${PREFIX}-secrets`));
    expect(secret['DATABASE_URL']).toBe('postgres://orchestra:Db-Pa55word-1@db.internal:5432/orchestra');
    expect(secret['REDIS_URL']).toBe('rediss://:Redis-Pa55word-2@cache.internal:6380');
    const generatedValues = Object.values(secret);
    for (const o of [...ofKind(r.objects, 'Deployment'), ...ofKind(r.objects, 'Job')]) {
      const spec = JSON.stringify(o);
      // A PEM is checked by its base64 body line, anything else whole.
      for (const value of generatedValues) expect(spec).not.toContain(value.includes('-----BEGIN') ? value.split('\n')[1]! : value);
      for (const entry of envOf(o)) {
        if (SECRET_ENV.test(entry.name)) expect([o.metadata.name, entry.name, entry.valueFrom?.secretKeyRef?.name]).toEqual([o.metadata.name, entry.name, `${PREFIX}-secrets`]);
      }
    }
  });

  test('with existing Secrets every secret variable reads the named Secret and key', () => {
    for (const o of [...ofKind(production.objects, 'Deployment'), ...ofKind(production.objects, 'Job')]) {
      for (const entry of envOf(o).filter((e) => SECRET_ENV.test(e.name))) {
        expect(entry.value).toBeUndefined();
        const ref = entry.valueFrom.secretKeyRef;
        const expected =
          entry.name === 'DATABASE_URL' ? { name: 'orchestra-postgres-app', key: 'uri' }
          : entry.name === 'REDIS_URL' ? { name: 'orchestra-redis', key: 'url' }
          : entry.name === 'ADMIN_PASSWORD' ? { name: 'orchestra-first-admin', key: 'password' }
          : entry.name.startsWith('AWS_') ? { name: 'orchestra-artifacts-s3', key: entry.name }
          : { name: 'orchestra-keys', key: entry.name };
        expect([o.metadata.name, entry.name, ref]).toEqual([o.metadata.name, entry.name, expected]);
      }
    }
    // The gateway alone holds the signing key; subgraphs hold only the public key.
    expect(envEntry(deployment(production, 'gateway'), 'PRINCIPAL_PRIVATE_KEY')).toBeDefined();
    for (const o of ofKind(production.objects, 'Deployment').filter((d) => componentOf(d) !== 'gateway')) expect(envEntry(o, 'PRINCIPAL_PRIVATE_KEY')).toBeUndefined();
    for (const s of SUBGRAPHS) expect(envEntry(deployment(production, s), 'PRINCIPAL_PUBLIC_KEY')).toBeDefined();
  });

  test('the generated principal keys are a working Ed25519 pair and the internal token is long enough', async () => {
    const secret = decodeSecret(named(defaults.objects, 'Secret', `${PREFIX}-secrets`));
    expect(secret['INTERNAL_TOKEN']!.length).toBeGreaterThanOrEqual(32);
    const signer = createPrincipalSigner(secret['PRINCIPAL_PRIVATE_KEY']!);
    const verifier = createPrincipalVerifier(secret['PRINCIPAL_PUBLIC_KEY']!);
    const header = await signer.sign(servicePrincipal('helm-test', 'req-1'));
    await expect(verifier.verify(header)).resolves.toMatchObject({ requestId: 'req-1' });
    // A second render generates a different pair, and its public key refuses the first one's signatures.
    const other = decodeSecret(named(render(helmBinary, { release: RELEASE, namespace: NAMESPACE }).objects, 'Secret', `${PREFIX}-secrets`));
    expect(other['PRINCIPAL_PUBLIC_KEY']).not.toBe(secret['PRINCIPAL_PUBLIC_KEY']);
    await expect(createPrincipalVerifier(other['PRINCIPAL_PUBLIC_KEY']!).verify(header)).rejects.toThrow(/signature is not valid/);
  });

  test('secret values cannot be given as plain values', () => {
    const result = helm(helmBinary, renderArgs({ set: ['secrets.internalToken=0123456789abcdef0123456789abcdef'] }));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/\/secrets.*internalToken/);
  });
});

describe('values validation', () => {
  test.each([
    ['a negative replica count', ['gateway.replicas=-1'], /\/gateway\/replicas/],
    ['a negative GPU count', ['workers.groups[0].name=gpu', 'workers.groups[0].gpu.count=-2'], /\/workers\/groups\/0\/gpu\/count/],
    ['zero worker slots', ['workers.defaults.slots=0'], /\/workers\/defaults\/slots/],
    ['an unknown log level', ['logLevel=loud'], /\/logLevel/],
    ['a database URL that is not PostgreSQL', ['database.url=mysql://db/orchestra'], /\/database\/url/],
    ['a worker group name that is not a DNS label', ['workers.groups[0].name=GPU_Pool'], /\/workers\/groups\/0\/name/],
    ['a misspelt key', ['gateway.replica=2'], /additional properties 'replica'/],
  ])('values.schema.json rejects %s, naming the value', (_what, set, message) => {
    const result = helm(helmBinary, renderArgs({ set }));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  test.each([
    ['audit retention without a persistent archive', ['audit.retention.enabled=true'], /audit\.archive\.persistence\.enabled/],
    ['a ReadWriteOnce archive shared by several audit replicas', ['audit.archive.persistence.enabled=true', 'audit.archive.persistence.accessModes[0]=ReadWriteOnce'], /ReadWriteMany/],
    ['two worker groups with one name', ['workers.groups[0].name=gpu', 'workers.groups[1].name=gpu'], /"gpu" is used twice/],
    ['no database at all', ['database.url='], /database\.url or database\.existingSecret/],
    ['an HPA whose maximum is below its minimum', ['gateway.autoscaling.minReplicas=5', 'gateway.autoscaling.maxReplicas=2'], /maxReplicas must be at least minReplicas/],
  ])('the templates refuse %s with a message that says what to do', (_what, set, message) => {
    const result = helm(helmBinary, renderArgs({ set }));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  test('the values file documents every top-level key the schema knows', () => {
    const schema = JSON.parse(readFileSync(`${CHART}/values.schema.json`, 'utf8')) as { properties: Record<string, unknown> };
    const values = parseYaml(readFileSync(`${CHART}/values.yaml`, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(values).sort()).toEqual(Object.keys(schema.properties).filter((k) => k !== 'global').sort());
  });
});

describe('monitoring', () => {
  test('the ServiceMonitor scrapes /metrics on the http port of every Orchestra Service, and on the gateway\'s ops port', () => {
    const monitor = ofKind(production.objects, 'ServiceMonitor')[0]!;
    expect(monitor.metadata.labels?.['release']).toBe('kube-prometheus-stack');
    expect(monitor.spec.endpoints.map((e: { port: string; path: string }) => [e.port, e.path])).toEqual([['http', '/metrics'], ['ops', '/metrics']]);
    const services = ofKind(production.objects, 'Service');
    const scraped = services.filter((s) => selects(monitor.spec.selector, s.metadata.labels ?? {}));
    const gatewayPublic = `${PREFIX}-gateway`;
    expect(scraped.map((s) => s.metadata.name).sort()).toEqual(services.filter((s) => !s.metadata.name.endsWith('-grpc') && s.metadata.name !== gatewayPublic).map((s) => s.metadata.name).sort());
    for (const s of scraped) expect(s.spec.ports.map((p: { name: string }) => p.name)).toEqual([expect.stringMatching(/^(http|ops)$/), ...(s.spec.ports.length > 1 ? [expect.anything()] : [])]);
    expect(named(production.objects, 'Service', `${PREFIX}-gateway-ops`).spec.ports).toEqual([expect.objectContaining({ name: 'ops', port: OPS_PORT, targetPort: 'ops' })]);
  });

  test('the gateway\'s public Service and the ingress carry the GraphQL port only, never the ops port', () => {
    for (const r of [defaults, production]) {
      expect(named(r.objects, 'Service', `${PREFIX}-gateway`).spec.ports.map((p: { targetPort: string }) => p.targetPort)).toEqual(['http']);
    }
    const ingress = ofKind(production.objects, 'Ingress')[0]!;
    for (const rule of ingress.spec.rules) {
      for (const path of rule.http.paths) expect(path.backend.service).toMatchObject({ name: `${PREFIX}-gateway` });
    }
  });
});
