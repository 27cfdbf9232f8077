{{/*
gRPC TLS between the release's processes (issue 9 item 14). With grpcTls.enabled every service and
worker mounts one Secret (tls.crt, tls.key, ca.crt: a cert-manager Certificate's, or one you provide)
at grpcTls.mountPath and reads it through GRPC_TLS_DIR (lib/src/grpc-tls.ts): servers serve TLS and,
with grpcTls.mutual, require a client certificate signed by the same CA; clients present theirs.
*/}}

{{- define "orchestra.grpcTls.secretName" -}}
{{- .Values.grpcTls.existingSecret | default (printf "%s-grpc-tls" (include "orchestra.fullname" .)) }}
{{- end }}

{{/* The name workers' certificates are checked for: they are dialled by pod address. */}}
{{- define "orchestra.grpcTls.workerServerName" -}}
{{- printf "%s-worker" (include "orchestra.fullname" .) }}
{{- end }}

{{- define "orchestra.grpcTls.check" -}}
{{- with .Values.grpcTls }}
{{- if and .enabled (not .existingSecret) (not .certManager.enabled) }}
{{- fail "grpcTls.enabled needs grpcTls.existingSecret (a Secret with tls.crt, tls.key and ca.crt) or grpcTls.certManager.enabled" }}
{{- end }}
{{- if and .enabled .certManager.enabled (not .existingSecret) (not .certManager.issuerRef.name) }}
{{- fail "grpcTls.certManager.enabled needs grpcTls.certManager.issuerRef.name (a CA issuer: its ca.crt is what every process trusts)" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Env of every process that serves or dials gRPC. root */}}
{{- define "orchestra.grpcTls.env" -}}
{{- include "orchestra.grpcTls.check" . }}
{{- if .Values.grpcTls.enabled }}
- name: GRPC_TLS_DIR
  value: {{ .Values.grpcTls.mountPath | quote }}
- name: GRPC_TLS_MUTUAL
  value: {{ .Values.grpcTls.mutual | quote }}
{{- end }}
{{- end }}

{{- define "orchestra.grpcTls.volume" -}}
{{- if .Values.grpcTls.enabled }}
- name: grpc-tls
  secret:
    secretName: {{ include "orchestra.grpcTls.secretName" . }}
    # 0440, written in decimal (YAML 1.1 and 1.2 read a leading 0 differently): the pods' group (fsGroup) only.
    defaultMode: 288
{{- end }}
{{- end }}

{{- define "orchestra.grpcTls.volumeMount" -}}
{{- if .Values.grpcTls.enabled }}
- name: grpc-tls
  mountPath: {{ .Values.grpcTls.mountPath }}
  readOnly: true
{{- end }}
{{- end }}
