#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# deploy/check-manifests.py (make manifests-check): the shipped manifests
# pass, and each broken copy fails naming what is wrong.

CHECK="$BATS_TEST_DIRNAME/../../../deploy/check-manifests.py"

setup() {
	python3 -c 'import yaml' 2>/dev/null || { echo "python3-yaml is needed" >&2; return 1; }
	D="$BATS_TEST_TMPDIR/deploy"
	mkdir -p "$D"
	cp "$BATS_TEST_DIRNAME"/../../../deploy/*.yaml "$D"/
}

# broken SED-EXPR FILE NEEDLE: after the edit the check fails, naming NEEDLE.
broken() {
	sed -i "$1" "$D/$2"
	if cmp -s "$D/$2" "$BATS_TEST_DIRNAME/../../../deploy/$2"; then
		echo "the edit '$1' changed nothing in $2" >&2
		return 1
	fi
	run python3 "$CHECK" "$D"
	echo "$output"
	[[ $status == 1 ]] || { echo "expected exit status 1, got $status" >&2; return 1; }
	[[ $output == *"$3"* ]] || { echo "expected a problem naming '$3'" >&2; return 1; }
}

@test "the shipped manifests pass" {
	run python3 "$CHECK"
	echo "$output"
	[[ $status == 0 ]]
	[[ $output == *"5 manifests"* ]]
}

@test "hostNetwork off" { broken 's/hostNetwork: true/hostNetwork: false/' daemonset.yaml hostNetwork; }
@test "no priority class" { broken '/priorityClassName/d' daemonset.yaml priorityClassName; }
@test "a toleration for one key only" { broken 's/- operator: Exists/- {operator: Exists, key: x}/' daemonset.yaml tolerations; }
@test "bpffs without Bidirectional propagation" { broken 's/Bidirectional/HostToContainer/' daemonset.yaml mountPropagation; }
@test "NODE_NAME not from the downward API" { broken 's/fieldPath: spec.nodeName/fieldPath: metadata.name/' daemonset.yaml 'env[NODE_NAME]'; }
@test "a probe on another port" { broken '0,/port: 9808/s//port: 9809/' daemonset.yaml 'livenessProbe.httpGet.port'; }
@test "a liveness probe on the host's address" { broken '0,/host: 127.0.0.1/{//d}' daemonset.yaml 'livenessProbe.httpGet.host'; }
@test "a readiness probe on the host's address" { broken '/readinessProbe/,/port:/{/host: 127.0.0.1/d}' daemonset.yaml 'readinessProbe.httpGet.host'; }
@test "the probes' listener on the host's address" { broken 's/--health-listen=127.0.0.1:9808/--health-listen=$(HOST_IP):9808/' daemonset.yaml 'expected --health-listen=127.0.0.1'; }
@test "no metrics listener" { broken '/--metrics-listen/d' daemonset.yaml 'expected --metrics-listen'; }
@test "metrics on the probes' port" { broken 's/--metrics-listen=$(HOST_IP):9809/--metrics-listen=$(HOST_IP):9808/' daemonset.yaml "a port other than the probes'"; }
@test "no Istio families on /metrics" { broken '/--istio-metrics/d' daemonset.yaml 'expected --istio-metrics'; }
@test "the metrics port not declared" { broken 's/containerPort: 9809/containerPort: 9810/' daemonset.yaml 'containerPort 9809'; }
@test "no memory limit" { broken 's/limits: {cpu: "1", memory: 512Mi}/limits: {cpu: "1"}/' daemonset.yaml 'resources.limits'; }
@test "kanaryd privileged" { broken '/^      containers:/,$ s/privileged: false/privileged: true/' daemonset.yaml 'securityContext.privileged'; }
@test "kanaryd with SYS_ADMIN too" { broken 's/add: \[BPF, PERFMON, NET_ADMIN, NET_RAW\]/add: [BPF, PERFMON, NET_ADMIN, NET_RAW, SYS_ADMIN]/' daemonset.yaml 'capabilities.add'; }
@test "kanaryd without PERFMON" { broken 's/add: \[BPF, PERFMON, NET_ADMIN, NET_RAW\]/add: [BPF, NET_ADMIN, NET_RAW]/' daemonset.yaml 'capabilities.add'; }
@test "kanaryd keeping the default capabilities" { broken 's/drop: \[ALL\]/drop: [NET_RAW]/' daemonset.yaml 'capabilities.drop'; }
@test "kanaryd on a writable root filesystem" { broken 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' daemonset.yaml readOnlyRootFilesystem; }
@test "kanaryd allowed to escalate" { broken 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/' daemonset.yaml allowPrivilegeEscalation; }
@test "kanaryd propagating bpffs back to the host" { broken '/^      containers:/,$ s/mountPropagation: HostToContainer/mountPropagation: Bidirectional/' daemonset.yaml 'containers[kanaryd].volumeMounts'; }
@test "no mirror relay" { broken 's|exec /usr/local/bin/kanary-mirror|exec /bin/true|' daemonset.yaml 'expected one container running kanary-mirror'; }
@test "the mirror relay with NET_ADMIN too" { broken 's/add: \[BPF\]$/add: [BPF, NET_ADMIN]/' daemonset.yaml 'containers[kanary-mirror].securityContext.capabilities.add'; }
@test "the mirror relay without a memory limit" { broken 's/limits: {cpu: "1", memory: 256Mi}/limits: {cpu: "1"}/' daemonset.yaml 'containers[kanary-mirror].resources.limits'; }
@test "the mirror relay without bpffs" { broken '/- name: kanary-mirror/,/^      volumes:/s|mountPath: /sys/fs/bpf|mountPath: /mnt|' daemonset.yaml 'containers[kanary-mirror].volumeMounts'; }
@test "no init container mounting bpffs" { broken 's/mount -t bpf bpf/true/' daemonset.yaml initContainers; }
@test "RBAC that may create" { broken '0,/verbs: \[get, list, watch\]/s//verbs: [get, list, watch, create]/' rbac.yaml verbs; }
@test "RBAC that reads secrets" { broken 's/resources: \[pods, services\]/resources: [pods, services, secrets]/' rbac.yaml secrets; }
@test "invalid YAML" { broken '$a\  bad: [' namespace.yaml YAML; }
