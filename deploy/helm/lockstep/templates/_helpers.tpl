{{/* Names, labels and the table of Lockstep's services. */}}

{{- define "lockstep.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lockstep.fullname" -}}
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

{{- define "lockstep.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lockstep.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lockstep.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lockstep.labels" -}}
helm.sh/chart: {{ include "lockstep.chart" . }}
{{ include "lockstep.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lockstep
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component: (dict "root" $ "component" "ingest-webhook") */}}
{{- define "lockstep.componentLabels" -}}
{{ include "lockstep.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "lockstep.componentSelector" -}}
{{ include "lockstep.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "lockstep.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "lockstep.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lockstep.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "lockstep.databaseSecret" -}}
{{- default (include "lockstep.fullname" .) .Values.database.existingSecret }}
{{- end }}

{{- define "lockstep.masterKeysSecret" -}}
{{- default (include "lockstep.databaseSecret" .) .Values.masterKeys.existingSecret }}
{{- end }}

{{/*
The services: name (= binary in the image and component label), values key, the port the service
listens on besides its admin port, and the config key (LOCKSTEP_<SECTION>__LISTEN) of each port.
Ports, paths and config keys are checked against the Rust sources by deploy/helm/tests.
*/}}
{{- define "lockstep.components" -}}
components:
  - name: ingest-webhook
    mode: true
    key: ingestWebhook
    masterKeys: true
    autoscale: true
    ports:
      - {name: http, valueKey: httpPort, env: LOCKSTEP_HTTP__LISTEN, grpc: false, access: webhook}
  - name: sync-applier
    mode: false
    key: syncApplier
    masterKeys: false
    autoscale: true
    ports: []
  - name: ticket-writer
    mode: true
    key: ticketWriter
    masterKeys: true
    autoscale: true
    ports:
      - {name: grpc, valueKey: grpcPort, env: LOCKSTEP_GRPC__LISTEN, grpc: true}
  - name: api
    mode: true
    key: api
    masterKeys: true
    autoscale: true
    ports:
      - {name: grpc, valueKey: grpcPort, env: LOCKSTEP_GRPC__LISTEN, grpc: true}
      - {name: http, valueKey: httpPort, env: LOCKSTEP_HTTP__LISTEN, grpc: false, access: workbench}
  - name: poller
    mode: false
    key: poller
    masterKeys: true
    autoscale: false
    ports:
      - {name: grpc, valueKey: grpcPort, env: LOCKSTEP_GRPC__LISTEN, grpc: true}
{{- end }}

{{/* Environment every Lockstep container shares: database, NATS, mode, logs, OTel. */}}
{{- define "lockstep.commonEnv" -}}
- name: LOCKSTEP_DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ include "lockstep.databaseSecret" . }}
      key: {{ .Values.database.urlKey }}
- name: LOCKSTEP_DATABASE__MAX_CONNECTIONS
  value: {{ .Values.database.maxConnections | quote }}
- name: LOCKSTEP_NATS__URL
  value: {{ .Values.nats.url | quote }}
- name: LOCKSTEP_NATS__SUBJECT_PREFIX
  value: {{ .Values.nats.subjectPrefix | quote }}
{{- if .Values.nats.credentialsSecret }}
- name: LOCKSTEP_NATS__CREDENTIALS_FILE
  value: /etc/lockstep/nats/{{ .Values.nats.credentialsKey }}
{{- end }}
- name: LOCKSTEP_TELEMETRY__FORMAT
  value: {{ .Values.logs.format | quote }}
- name: LOCKSTEP_TELEMETRY__FILTER
  value: {{ .Values.logs.filter | quote }}
{{- if .Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .Values.otel.protocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ .Values.otel.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .Values.otel.samplerArg | quote }}
{{- end }}
{{- end }}
