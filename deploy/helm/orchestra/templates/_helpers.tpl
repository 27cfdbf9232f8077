{{/* Names and labels ---------------------------------------------------------------------- */}}

{{- define "orchestra.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "orchestra.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A component's object name: <fullname>-<component>, within DNS label length. */}}
{{- define "orchestra.componentName" -}}
{{- printf "%s-%s" (include "orchestra.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "orchestra.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every pod of this release carries: what "an Orchestra pod" means to the NetworkPolicies. */}}
{{- define "orchestra.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "orchestra.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "orchestra.labels" -}}
helm.sh/chart: {{ include "orchestra.chart" . }}
{{ include "orchestra.releaseSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orchestra
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* dict root component [group] */}}
{{- define "orchestra.selectorLabels" -}}
{{ include "orchestra.releaseSelectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- with .group }}
orchestra.dev/worker-group: {{ . }}
{{- end }}
{{- end }}

{{- define "orchestra.componentLabels" -}}
{{ include "orchestra.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- with .group }}
orchestra.dev/worker-group: {{ . }}
{{- end }}
{{- end }}

{{- define "orchestra.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "orchestra.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "orchestra.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The command that starts a service from the one image (see the Dockerfile): given a source entry such
as gateway/src/main.ts, the compiled JavaScript the image holds (gateway/dist/main.js; scripts/x.ts is
scripts/dist/x.js), run by plain node with the condition that resolves @orchestra/* to their dist/.
*/}}
{{- define "orchestra.command" -}}
{{- $js := regexReplaceAll "\\.ts$" . ".js" -}}
- node
- --conditions=orchestra-dist
{{- if contains "/src/" $js }}
- {{ replace "/src/" "/dist/" $js }}
{{- else }}
- {{ printf "%s/dist/%s" (dir $js) (base $js) }}
{{- end }}
{{- end }}

{{/* Secrets ----------------------------------------------------------------------------------- */}}

{{- define "orchestra.generatedSecretName" -}}
{{- printf "%s-secrets" (include "orchestra.fullname" .) }}
{{- end }}

{{- define "orchestra.keysSecretName" -}}
{{- default (include "orchestra.generatedSecretName" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Whether the chart renders its own Secret: anything not taken from an existing Secret lives there. */}}
{{- define "orchestra.ownsSecret" -}}
{{- if or (not .Values.secrets.existingSecret) (not .Values.database.existingSecret) (not .Values.redis.existingSecret) (not .Values.mail.existingSecret) }}true{{ end }}
{{- end }}

{{/* env entries: one variable from a Secret key. dict name secret key */}}
{{- define "orchestra.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end }}

{{- define "orchestra.env.internalToken" -}}
{{ include "orchestra.secretEnv" (dict "name" "INTERNAL_TOKEN" "secret" (include "orchestra.keysSecretName" .) "key" "INTERNAL_TOKEN") }}
{{- end }}

{{/* Held by the orchestration service (verifies worker tokens, derives dispatch tokens) and the workers' init container (mints the pod's token). */}}
{{- define "orchestra.env.workerAuthSecrets" -}}
{{ include "orchestra.secretEnv" (dict "name" "WORKER_AUTH_SECRETS" "secret" (include "orchestra.keysSecretName" .) "key" "WORKER_AUTH_SECRETS") }}
{{- end }}

{{- define "orchestra.env.database" -}}
{{- if .Values.database.existingSecret }}
{{ include "orchestra.secretEnv" (dict "name" "DATABASE_URL" "secret" .Values.database.existingSecret "key" .Values.database.existingSecretKey) }}
{{- else }}
{{ include "orchestra.secretEnv" (dict "name" "DATABASE_URL" "secret" (include "orchestra.generatedSecretName" .) "key" "DATABASE_URL") }}
{{- end }}
{{- end }}

{{/* Mail (identity's password reset links): the SMTP server's URL from a Secret, and the sender. */}}
{{- define "orchestra.env.mail" -}}
{{- if .Values.mail.existingSecret }}
{{ include "orchestra.secretEnv" (dict "name" "SMTP_URL" "secret" .Values.mail.existingSecret "key" .Values.mail.existingSecretKey) }}
{{- else }}
{{ include "orchestra.secretEnv" (dict "name" "SMTP_URL" "secret" (include "orchestra.generatedSecretName" .) "key" "SMTP_URL") }}
{{- end }}
- name: MAIL_FROM
  value: {{ .Values.mail.from | quote }}
{{- end }}

{{- define "orchestra.env.redis" -}}
{{- if .Values.redis.existingSecret }}
{{ include "orchestra.secretEnv" (dict "name" "REDIS_URL" "secret" .Values.redis.existingSecret "key" .Values.redis.existingSecretKey) }}
{{- else }}
{{ include "orchestra.secretEnv" (dict "name" "REDIS_URL" "secret" (include "orchestra.generatedSecretName" .) "key" "REDIS_URL") }}
{{- end }}
- name: REDIS_PREFIX
  value: {{ .Values.redis.keyPrefix | quote }}
{{- end }}

{{/* Addresses --------------------------------------------------------------------------------- */}}

{{/* gRPC goes through the headless <component>-grpc Service: clients resolve every pod and
     round-robin over them (a ClusterIP would pin each client to one pod). */}}
{{- define "orchestra.grpcAddr" -}}
{{- $values := index .root.Values .component }}
{{- printf "dns:///%s-grpc:%d" (include "orchestra.componentName" .) (int $values.grpcPort) }}
{{- end }}

{{- define "orchestra.subgraphUrl" -}}
{{- $values := index .root.Values .component }}
{{- printf "http://%s:%d/graphql" (include "orchestra.componentName" .) (int $values.httpPort) }}
{{- end }}

{{/* Where each internal gRPC service is, for every process that may call it. */}}
{{- define "orchestra.env.grpcAddresses" -}}
{{- range $component := list "identity" "catalog" "orchestration" "audit" "notifications" }}
{{- if (index $.Values $component).enabled }}
- name: {{ upper $component }}_GRPC_ADDR
  value: {{ include "orchestra.grpcAddr" (dict "root" $ "component" $component) | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Plain variables from a map, sorted so renders are stable. */}}
{{- define "orchestra.env.map" -}}
{{- range $name := keys . | sortAlpha }}
- name: {{ $name }}
  value: {{ index $ $name | toString | quote }}
{{- end }}
{{- end }}

{{/* Pod pieces --------------------------------------------------------------------------------- */}}

{{/* dict root values component [group] port */}}
{{- define "orchestra.podAnnotations" -}}
{{- $annotations := merge (dict) (.values.podAnnotations | default dict) (.root.Values.podAnnotations | default dict) }}
{{- /* With a ServiceMonitor the annotations would make annotation-based scrape configs collect every series twice. */}}
{{- if and .root.Values.prometheusAnnotations (not .root.Values.serviceMonitor.enabled) }}
{{- $_ := set $annotations "prometheus.io/scrape" "true" }}
{{- $_ := set $annotations "prometheus.io/port" (toString .port) }}
{{- $_ := set $annotations "prometheus.io/path" "/metrics" }}
{{- end }}
{{- /* Env from a Secret is read at start only: a changed URL or Secret name must roll the pods. */}}
{{- $secretInputs := dict "secrets" .root.Values.secrets.existingSecret "database" .root.Values.database "redis" .root.Values.redis }}
{{- $_ := set $annotations "checksum/secret-inputs" (toJson $secretInputs | sha256sum) }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The probes every service answers on its HTTP port ("http"; the gateway's ops port "ops"). dict root [port] */}}
{{- define "orchestra.probes" -}}
{{- $p := .root.Values.probes }}
{{- $port := .port | default "http" }}
startupProbe:
  httpGet: { path: /healthz, port: {{ $port }} }
  periodSeconds: {{ $p.startup.periodSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
readinessProbe:
  httpGet: { path: /readyz, port: {{ $port }} }
  periodSeconds: {{ $p.readiness.periodSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
livenessProbe:
  httpGet: { path: /healthz, port: {{ $port }} }
  periodSeconds: {{ $p.liveness.periodSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
{{- end }}

{{/* Scheduling: the component's own settings win over the release-wide ones. dict root values selector */}}
{{- define "orchestra.scheduling" -}}
{{- $nodeSelector := merge (dict) (.nodeSelector | default dict) (.values.nodeSelector | default dict) (.root.Values.nodeSelector | default dict) }}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $tolerations := concat (.root.Values.tolerations | default list) (.values.tolerations | default list) (.tolerations | default list) | uniq }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.values.affinity | default .root.Values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: {{ .root.Values.topologySpread.maxSkew }}
    topologyKey: {{ .root.Values.topologySpread.topologyKey }}
    whenUnsatisfiable: {{ .root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- .selector | nindent 8 }}
{{- end }}
{{- with .root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{- define "orchestra.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "orchestra.tmpVolume" -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "orchestra.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Endpoints leave the Service before the process sees SIGTERM, so no request lands on a draining pod. */}}
{{- define "orchestra.preStop" -}}
lifecycle:
  preStop:
    exec:
      command: ["sleep", "5"]
{{- end }}

{{/* A PodDisruptionBudget's limits. */}}
{{- define "orchestra.pdbSpec" -}}
{{- if not (kindIs "invalid" .minAvailable) }}
minAvailable: {{ .minAvailable }}
{{- else }}
maxUnavailable: {{ .maxUnavailable | default 1 }}
{{- end }}
{{- end }}

{{/*
A worker group's settings: workers.defaults overlaid with the group's own, written into .out.
Written out by hand because sprig's merge treats 0, false and "" as unset, and a CPU group's
gpu.count: 0 must win over the default of 1. Maps merge one level deep (gpu, resources, labels...).
dict out defaults group
*/}}
{{- define "orchestra.workerGroup" -}}
{{- $out := .out }}
{{- range $key, $value := deepCopy .defaults }}
{{- $_ := set $out $key $value }}
{{- end }}
{{- range $key, $value := deepCopy .group }}
{{- $current := index $out $key }}
{{- if and (kindIs "map" $value) (kindIs "map" $current) }}
{{- range $innerKey, $innerValue := $value }}
{{- $_ := set $current $innerKey $innerValue }}
{{- end }}
{{- else }}
{{- $_ := set $out $key $value }}
{{- end }}
{{- end }}
{{- end }}

{{/* Where workers keep task artifacts (values.artifacts), as lib/src/artifacts reads it. */}}
{{- define "orchestra.env.artifacts" -}}
{{- $a := .Values.artifacts -}}
- name: ARTIFACT_STORE
  value: {{ $a.store | quote }}
{{- if eq $a.store "fs" }}
- name: ARTIFACT_DIR
  value: {{ $a.dir | quote }}
{{- end }}
{{- if eq $a.store "s3" }}
{{- if not $a.s3.bucket }}
{{- fail "artifacts.s3.bucket: name the bucket task artifacts go to (artifacts.store is s3)" }}
{{- end }}
- name: ARTIFACT_S3_BUCKET
  value: {{ $a.s3.bucket | quote }}
{{- with $a.s3.endpoint }}
- name: ARTIFACT_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: ARTIFACT_S3_REGION
  value: {{ $a.s3.region | quote }}
- name: ARTIFACT_S3_FORCE_PATH_STYLE
  value: {{ $a.s3.forcePathStyle | quote }}
{{- end }}
- name: ARTIFACT_MAX_BYTES
  value: {{ $a.maxBytes | int64 | quote }}
- name: ARTIFACT_MAX_ATTEMPT_BYTES
  value: {{ $a.maxAttemptBytes | int64 | quote }}
{{- with $a.credentialsSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: { name: {{ . }}, key: AWS_ACCESS_KEY_ID }
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: { name: {{ . }}, key: AWS_SECRET_ACCESS_KEY }
{{- end }}
{{- end }}
