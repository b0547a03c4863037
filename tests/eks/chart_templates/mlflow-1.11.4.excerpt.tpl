{{- /* Verbatim excerpts of community-charts/helm-charts charts/mlflow, chart 1.11.4
     (commit 6361e8d64061d3d24ef6c3d870fd2b991bbcb90e, MIT licence). Only the lines that decide the MLflow
     container's command, arguments, ports, probes and environment for the values
     Slipway sets; slipway.eks.mlflow_chart re-expresses them in Python and
     tests/eks/test_eks_mlflow_chart.py checks each line it cites is here. */ -}}
{{- /* ==== templates/deployment.yaml, lines 13-43 ==== */ -}}
{{- $artifactCommandPrefix := "default-artifact-root" }}
{{- $artifactCommand := printf "--%s=%s" $artifactCommandPrefix .Values.artifactRoot.defaultArtifactRoot }}

{{- if .Values.artifactRoot.proxiedArtifactStorage }}
  {{- $artifactCommandPrefix = "artifacts-destination" }}
  {{- $artifactCommand = printf "--%s=%s" $artifactCommandPrefix .Values.artifactRoot.defaultArtifactsDestination }}
{{- end }}

{{- if .Values.artifactRoot.azureBlob.enabled }}
  {{- $artifactCommand = printf "--%s=wasbs://%s@%s.blob.core.windows.net/%s" $artifactCommandPrefix .Values.artifactRoot.azureBlob.container .Values.artifactRoot.azureBlob.storageAccount .Values.artifactRoot.azureBlob.path }}
{{- else if .Values.artifactRoot.s3.enabled }}
{{- if .Values.minio.enabled }}
  {{- $artifactCommand = printf "--%s=s3://%s/" $artifactCommandPrefix (ternary (index .Values.minio.buckets 0).name .Values.artifactRoot.s3.bucket (eq .Values.artifactRoot.s3.bucket "")) }}
{{- else }}
  {{- $artifactCommand = printf "--%s=s3://%s/%s" $artifactCommandPrefix .Values.artifactRoot.s3.bucket .Values.artifactRoot.s3.path }}
{{- end }}
{{- else if .Values.artifactRoot.gcs.enabled }}
  {{- $artifactCommand = printf "--%s=gs://%s/%s" $artifactCommandPrefix .Values.artifactRoot.gcs.bucket .Values.artifactRoot.gcs.path }}
{{- end }}

{{- $dbConnectionDriver := "" }}
{{- if and (or .Values.backendStore.postgres.enabled .Values.postgresql.enabled) .Values.backendStore.postgres.driver }}
  {{- $dbConnectionDriver = printf "+%s" .Values.backendStore.postgres.driver }}
{{- else if and (or .Values.backendStore.mysql.enabled .Values.mysql.enabled) .Values.backendStore.mysql.driver }}
  {{- $dbConnectionDriver = printf "+%s" .Values.backendStore.mysql.driver }}
{{- else if and .Values.backendStore.mssql.enabled .Values.backendStore.mssql.driver }}
  {{- $dbConnectionDriver = printf "+%s" .Values.backendStore.mssql.driver }}
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
{{- /* ==== templates/deployment.yaml, lines 342-425 ==== */ -}}
      containers:
        - name: {{ .Chart.Name }}
          {{- with .Values.securityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          image: {{ include "mlflow.containerImage" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          command: ["mlflow"]
          args:
            - server
            - --host={{ .Values.serverHost }}
            - --port={{ .Values.service.containerPort }}
          {{- if or .Values.backendStore.postgres.enabled .Values.postgresql.enabled }}
            - --backend-store-uri=postgresql{{ $dbConnectionDriver }}://
          {{- else if or .Values.backendStore.mysql.enabled .Values.mysql.enabled }}
            - --backend-store-uri=mysql{{ $dbConnectionDriver }}://$(MYSQL_USERNAME):$(MYSQL_PWD)@$(MYSQL_HOST):$(MYSQL_TCP_PORT)/$(MYSQL_DATABASE)
          {{- else if or .Values.backendStore.mssql.enabled }}
            {{- if .Values.backendStore.mssql.existingConnectionUrlSecret.name }}
            - --backend-store-uri=$(MSSQL_CONNECTION_URL)
            {{- else if .Values.backendStore.mssql.connectionUrl }}
            - --backend-store-uri={{ .Values.backendStore.mssql.connectionUrl }}
            {{- else }}
            - --backend-store-uri=mssql{{ $dbConnectionDriver }}://$(MSSQL_USERNAME):$(MSSQL_PWD)@$(MSSQL_HOST):$(MSSQL_TCP_PORT)/$(MSSQL_DATABASE)
            {{- end }}
          {{- else }}
            - "--backend-store-uri=sqlite:///{{ .Values.backendStore.defaultSqlitePath }}"
          {{- end }}
            - {{ $artifactCommand }}
          {{- if .Values.artifactRoot.proxiedArtifactStorage }}
            - --serve-artifacts
          {{- end }}
          {{- if .Values.serviceMonitor.enabled }}
            - --expose-prometheus=/mlflow/metrics
          {{- end }}
          {{- if .Values.oidcAuth.enabled }}
            - --app-name=oidc-auth
          {{- else if .Values.auth.enabled }}
            - --app-name={{ .Values.auth.appName }}
          {{- else if .Values.ldapAuth.enabled }}
            - --app-name=basic-auth
          {{- end }}
          {{- if and .Values.log.enabled (not (hasKey .Values.extraArgs "gunicornOpts")) (not (hasKey .Values.extraArgs "uvicornOpts")) }}
            - {{ printf "--uvicorn-opts='--log-level=%s'" .Values.log.level }}
          {{- end }}
          {{- range $key, $value := .Values.extraArgs }}
            {{- if and $.Values.log.enabled (eq $key "uvicornOpts") (contains "--log-level" $value) }}
            - {{ printf "--uvicorn-opts='%s'" (regexReplaceAll "--log-level=[^\\s]*" $value (printf "--log-level=%s" $.Values.log.level)) }}
            {{- else if and $.Values.log.enabled (eq $key "uvicornOpts") (not (contains "--log-level" $value)) }}
            - {{ printf "--uvicorn-opts='--log-level=%s %s'" $.Values.log.level $value }}
            {{- else if and $.Values.log.enabled (eq $key "gunicornOpts") (contains "--log-level" $value) }}
            - {{ printf "--gunicorn-opts='%s'" (regexReplaceAll "--log-level=[^\\s]*" $value (printf "--log-level=%s" $.Values.log.level)) }}
            {{- else if and $.Values.log.enabled (eq $key "gunicornOpts") (not (contains "--log-level" $value)) }}
            - {{ printf "--gunicorn-opts='--log-level=%s %s'" $.Values.log.level $value }}
            {{- else }}
            - {{ printf "--%s=%s" (kebabcase $key) $value }}
            {{- end }}
          {{- end }}
          {{- range .Values.extraFlags }}
            - --{{ kebabcase . }}
          {{- end }}
          ports:
            - name: {{ .Values.service.containerPortName }}
              containerPort: {{ .Values.service.containerPort }}
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /health
              port: {{ .Values.service.containerPortName }}
          {{- with .Values.livenessProbe }}
            {{- toYaml . | nindent 12 }}
          {{- end }}
          readinessProbe:
            httpGet:
              path: /health
              port: {{ .Values.service.containerPortName }}
          {{- with .Values.readinessProbe }}
            {{- toYaml . | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          env:
            - name: MLFLOW_VERSION
              value: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
{{- /* ==== templates/deployment.yaml, lines 533-546 (main container env) ==== */ -}}
          {{- if .Values.backendStore.existingDatabaseSecret.name }}
            {{- if .Values.backendStore.postgres.enabled }}
            - name: PGPASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ .Values.backendStore.existingDatabaseSecret.name }}
                  key: {{ .Values.backendStore.existingDatabaseSecret.passwordKey }}
            - name: PGUSER
              valueFrom:
                secretKeyRef:
                  name: {{ .Values.backendStore.existingDatabaseSecret.name }}
                  key: {{ .Values.backendStore.existingDatabaseSecret.usernameKey }}
            {{- end }}
            {{- if .Values.backendStore.mysql.enabled }}
{{- /* ==== templates/deployment.yaml, lines 609-623 ==== */ -}}
          {{- range $key, $value := .Values.extraEnvVars }}
            - name: {{ $key }}
              value: {{ $value | quote }}
          {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "mlflow.fullname" . }}-env-configmap
            - secretRef:
                name: {{ include "mlflow.fullname" . }}-env-secret
            - secretRef:
                name: {{ include "mlflow.fullname" . }}-flask-server-secret-key
          {{- range .Values.extraSecretNamesForEnvFrom }}
            - secretRef:
                name: {{ . }}
          {{- end }}
{{- /* ==== templates/configmap.yaml, lines 1-45 (the -env-configmap) ==== */ -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "mlflow.fullname" . }}-env-configmap
  labels:
    {{- include "mlflow.labels" . | nindent 4 }}
data:
{{- if .Values.backendStore.postgres.enabled }}
  PGHOST: {{ required "postgres host must be specified" .Values.backendStore.postgres.host }}
  PGPORT: {{ required "postgres port must be specified" .Values.backendStore.postgres.port | quote }}
  PGDATABASE: {{ required "postgres database must be specified" .Values.backendStore.postgres.database }}
{{- end }}
{{- if .Values.postgresql.enabled }}
  PGHOST: {{ include "mlflow.fullname" . }}-postgresql
  PGPORT: {{ default "5432" .Values.postgresql.primary.service.ports.postgresql | quote }}
  PGDATABASE: {{ .Values.postgresql.auth.database }}
{{- end }}
{{- if .Values.backendStore.mysql.enabled }}
  MYSQL_HOST: {{ required "mysql host must be specified" .Values.backendStore.mysql.host }}
  MYSQL_TCP_PORT: {{ required "mysql port must be specified" .Values.backendStore.mysql.port | quote }}
  MYSQL_DATABASE: {{ required "mysql database must be specified" .Values.backendStore.mysql.database }}
{{- end }}
{{- if and .Values.backendStore.mssql.enabled (not .Values.backendStore.mssql.connectionUrl) (not .Values.backendStore.mssql.existingConnectionUrlSecret.name) }}
  MSSQL_HOST: {{ required "mssql host must be specified" .Values.backendStore.mssql.host }}
  MSSQL_TCP_PORT: {{ required "mssql port must be specified" .Values.backendStore.mssql.port | quote }}
  MSSQL_DATABASE: {{ required "mssql database must be specified" .Values.backendStore.mssql.database }}
{{- end }}
{{- if .Values.mysql.enabled }}
  MYSQL_HOST: {{ include "mlflow.fullname" . }}-mysql
  MYSQL_TCP_PORT: {{ default "3306" .Values.mysql.primary.service.ports.mysql | quote }}
  MYSQL_DATABASE: {{ .Values.mysql.auth.database }}
{{- end }}
  MLFLOW_CONFIGURE_LOGGING: {{ .Values.log.enabled | quote }}
{{- if .Values.log.enabled }}
  MLFLOW_LOGGING_LEVEL: {{ .Values.log.level | upper | quote }}
{{- end }}
{{- if not .Values.telemetry.enabled }}
  MLFLOW_DISABLE_TELEMETRY: "true"
  DO_NOT_TRACK: "true"
{{- end }}
{{- with include "mlflow.serverAllowedHosts" . }}
  MLFLOW_SERVER_ALLOWED_HOSTS: {{ . | quote }}
{{- end }}
{{- with include "mlflow.corsAllowedOrigins" . }}
  MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: {{ . | quote }}
{{- /* ==== templates/_helpers.tpl, lines 133-159 ==== */ -}}
{{/*
Deduplicate a string list and return a comma-separated string.
Collapses the entire list to "*" when the wildcard entry is present.
Returns empty string when the list is empty.
Usage: {{ include "mlflow.normalizeList" $list }}
*/}}
{{- define "mlflow.normalizeList" -}}
{{- $list := . | uniq -}}
{{- if has "*" $list -}}*{{- else if $list -}}{{- join "," $list -}}{{- end -}}
{{- end }}

{{/*
Build the MLFLOW_SERVER_ALLOWED_HOSTS value.
Auto-detects ingress hostnames then appends serverAllowedHosts.
Delegates dedup and wildcard collapsing to mlflow.normalizeList.
Usage: {{ include "mlflow.serverAllowedHosts" . }}
*/}}
{{- define "mlflow.serverAllowedHosts" -}}
{{- $hosts := list -}}
{{- if and .Values.ingress.enabled .Values.ingress.hosts -}}
  {{- range .Values.ingress.hosts -}}
    {{- if .host -}}{{- $hosts = append $hosts .host -}}{{- end -}}
  {{- end -}}
{{- end -}}
{{- range .Values.serverAllowedHosts -}}{{- $hosts = append $hosts . -}}{{- end -}}
{{- include "mlflow.normalizeList" $hosts -}}
{{- end }}
