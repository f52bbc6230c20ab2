{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "nodeqos.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped base name; component suffixes are added by the objects. */}}
{{- define "nodeqos.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "nodeqos.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "nodeqos.labels" -}}
helm.sh/chart: {{ include "nodeqos.chart" . }}
app.kubernetes.io/name: {{ include "nodeqos.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: nodeqos
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "controller"). */}}
{{- define "nodeqos.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nodeqos.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component's objects: call with (dict "ctx" $ "component" "controller"). */}}
{{- define "nodeqos.componentLabels" -}}
{{ include "nodeqos.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "nodeqos.controller.name" -}}
{{- printf "%s-controller" (include "nodeqos.fullname" .) -}}
{{- end -}}

{{- define "nodeqos.agent.name" -}}
{{- printf "%s-agent" (include "nodeqos.fullname" .) -}}
{{- end -}}

{{- define "nodeqos.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create -}}
{{- default (include "nodeqos.controller.name" .) .Values.controller.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.controller.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nodeqos.agent.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create -}}
{{- default (include "nodeqos.agent.name" .) .Values.agent.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.agent.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nodeqos.leaseName" -}}
{{- default (include "nodeqos.controller.name" .) .Values.controller.leaseName -}}
{{- end -}}

{{/* repository@digest when a digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "nodeqos.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Values combinations the schema cannot express; fail early with a message that says what to change. */}}
{{- define "nodeqos.validate" -}}
{{- if and (gt (int .Values.controller.replicas) 1) (not .Values.features.leaderElection) -}}
{{- fail "controller.replicas > 1 needs features.leaderElection=true: without a Lease every replica would write plans" -}}
{{- end -}}
{{- if and (eq .Values.agent.cgroupMounts "kubepods") (or (eq .Values.agent.cgroupVersion "auto") (eq .Values.agent.cgroupDriver "auto")) -}}
{{- fail "agent.cgroupMounts=kubepods mounts only the kubepods cgroup of each hierarchy, so it needs agent.cgroupVersion (v1 or v2) and agent.cgroupDriver (systemd or cgroupfs) set, not auto; or set agent.cgroupMounts=all" -}}
{{- end -}}
{{- if and .Values.features.serviceMonitor (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor")) -}}
{{- fail "features.serviceMonitor needs the monitoring.coreos.com/v1 ServiceMonitor API (prometheus-operator); install its CRDs, or with helm template pass --api-versions monitoring.coreos.com/v1/ServiceMonitor" -}}
{{- end -}}
{{- end -}}

{{/*
The host cgroup directories the agent mounts read-write, as a list of {name, hostPath, mountPath}: with
agent.cgroupMounts=kubepods only the kubepods cgroup of each hierarchy it writes (v2: the unified tree's; v1:
cpu, cpuset, memory, blkio), with "all" the whole cgroup filesystem (docs/decisions/0147).
*/}}
{{- define "nodeqos.agent.cgroupMounts" -}}
{{- $root := .Values.agent.hostCgroupPath | trimSuffix "/" -}}
{{- $kubepods := .Values.agent.kubepodsDir | default (ternary "kubepods.slice" "kubepods" (eq .Values.agent.cgroupDriver "systemd")) -}}
{{- $mounts := list -}}
{{- if eq .Values.agent.cgroupMounts "all" -}}
{{- $mounts = append $mounts (dict "name" "host-cgroup" "hostPath" $root "mountPath" "/host/sys/fs/cgroup") -}}
{{- else if eq .Values.agent.cgroupVersion "v2" -}}
{{- $mounts = append $mounts (dict "name" "host-cgroup-kubepods" "hostPath" (printf "%s/%s" $root $kubepods) "mountPath" (printf "/host/sys/fs/cgroup/%s" $kubepods)) -}}
{{- else -}}
{{- range list "cpu" "cpuset" "memory" "blkio" -}}
{{- $mounts = append $mounts (dict "name" (printf "host-cgroup-%s" .) "hostPath" (printf "%s/%s/%s" $root . $kubepods) "mountPath" (printf "/host/sys/fs/cgroup/%s/%s" . $kubepods)) -}}
{{- end -}}
{{- end -}}
{{- toJson $mounts -}}
{{- end -}}

{{/*
CEL for "these fields of object and oldObject are the same", a field absent on both counting as the same:
has() on each side, then ==. Written out rather than with optional types (`object.spec.?x == oldObject.spec.?x`)
so the policies also run in CEL engines without that extension (the embedded dev server's); one line per field.
*/}}
{{- define "nodeqos.sameFields" -}}
{{- $terms := list -}}
{{- range . -}}
{{- $terms = append $terms (printf "(has(object.%[1]s) == has(oldObject.%[1]s) && (!has(object.%[1]s) || object.%[1]s == oldObject.%[1]s))" .) -}}
{{- end -}}
{{- join " &&\n        " $terms -}}
{{- end -}}
