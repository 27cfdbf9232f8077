{{/*
The Deployment of one stateless service (the gateway or a subgraph).
dict:
  root       the chart's root context
  component  gateway | identity | catalog | orchestration | audit
  values     the component's values
  entry      its main.ts inside the image
  env        rendered env entries (YAML list) specific to it
  ports      list of dict name port
  probePort  the named port the probes use (default http)
  metricsPort  the port number /metrics is scraped on (default the first port's)
  volumes, volumeMounts  extra rendered YAML lists (optional)
*/}}
{{- define "orchestra.deployment" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $selector := include "orchestra.selectorLabels" (dict "root" $root "component" .component) }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "orchestra.componentName" (dict "root" $root "component" .component) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "orchestra.componentLabels" (dict "root" $root "component" .component) | trim | nindent 4 }}
  {{- with $root.Values.commonAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "orchestra.componentLabels" (dict "root" $root "component" .component) | trim | nindent 8 }}
        {{- with (merge (dict) ($v.podLabels | default dict) ($root.Values.podLabels | default dict)) }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with (include "orchestra.podAnnotations" (dict "root" $root "values" $v "port" (.metricsPort | default (index .ports 0).port)) | trim) }}
      {{- . | nindent 6 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "orchestra.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- include "orchestra.podSecurity" $root | trim | nindent 6 }}
      {{- with (include "orchestra.scheduling" (dict "root" $root "values" $v "selector" $selector) | trim) }}
      {{- . | nindent 6 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "orchestra.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command:
            {{- include "orchestra.command" .entry | trim | nindent 12 }}
          ports:
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          env:
            - name: LOG_LEVEL
              value: {{ $root.Values.logLevel | quote }}
            - name: HOST
              value: {{ $root.Values.listenHost | quote }}
            {{- include "orchestra.env.tracing" $root | nindent 12 }}
            {{- include "orchestra.env.internalToken" $root | trim | nindent 12 }}
            {{- with (include "orchestra.grpcTls.env" $root | trim) }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- .env | trim | nindent 12 }}
            {{- with (include "orchestra.env.map" ($v.env | default dict) | trim) }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- include "orchestra.probes" (dict "root" $root "port" .probePort) | trim | nindent 10 }}
          {{- include "orchestra.preStop" $root | trim | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            {{- include "orchestra.tmpMount" $root | trim | nindent 12 }}
            {{- with (include "orchestra.grpcTls.volumeMount" $root | trim) }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with .volumeMounts }}
            {{- . | trim | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "orchestra.tmpVolume" $root | trim | nindent 8 }}
        {{- with (include "orchestra.grpcTls.volume" $root | trim) }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with .volumes }}
        {{- . | trim | nindent 8 }}
        {{- end }}
{{- end }}

{{/* dict root component ports (list of dict name port servicePort appProtocol) [name group type annotations headless labels] */}}
{{- define "orchestra.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name | default (include "orchestra.componentName" .) }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "orchestra.componentLabels" . | trim | nindent 4 }}
    {{- with .labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with (merge (dict) (.annotations | default dict) (.root.Values.commonAnnotations | default dict)) }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .type | default "ClusterIP" }}
  {{- if .headless }}
  clusterIP: None
  {{- end }}
  selector:
    {{- include "orchestra.selectorLabels" . | trim | nindent 4 }}
  ports:
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .servicePort | default .port }}
      targetPort: {{ .name }}
      protocol: TCP
      appProtocol: {{ .appProtocol }}
    {{- end }}
{{- end }}

{{- define "orchestra.env.tracing" -}}
{{- with .Values.tracing }}
{{- if .otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .otlpEndpoint | quote }}
- name: OTEL_BSP_SCHEDULE_DELAY
  value: {{ .batchDelayMs | int64 | quote }}
{{- end }}
{{- end }}
{{- end }}
