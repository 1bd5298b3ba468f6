#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The image `make image` builds (scripts/build-image.sh), unpacked, and
# kanaryd run from its filesystem the way the DaemonSet runs it: in a mount
# namespace of its own, chrooted into the image's root mounted read-only,
# holding only the capabilities deploy/daemonset.yaml grants, with bpffs,
# /run/kanary and the API credentials mounted in, and its environment.  It watches the test API
# server and steers the netns cluster.  No OCI runtime can start a container
# on these machines (crun's setrlimit is refused), so this stands in for one.

source "$BATS_TEST_DIRNAME/kube.bash"

setup_file() {
	IMAGE_TAR="$KN_REPO/.output/kanary-image.tar"
	[[ -s $IMAGE_TAR ]] || { echo "$IMAGE_TAR is not built (make image)" >&2; return 1; }
	kube_setup_file || return 1
	IMG_ROOT="$KN_TMP/image-root"
	image_unpack "$IMAGE_TAR" "$IMG_ROOT" >"$KN_TMP/image-config.json" || return 1
	KD_CAPS=$(python3 "$KN_REPO/deploy/check-manifests.py" --caps | tr 'A-Z' 'a-z') || return 1
	[[ -n $KD_CAPS ]] || { echo "the DaemonSet grants kanaryd no capability" >&2; return 1; }
	export IMAGE_TAR IMG_ROOT KD_CAPS
	image_kd_start
}
teardown_file() { kube_teardown_file; }
# A relay a failed test left running.
teardown() { [[ -z ${RELAY_PID:-} ]] || kill -KILL "$RELAY_PID" 2>/dev/null || true; }

# image_unpack ARCHIVE DIR: the layers of the OCI archive's image, in order,
# into DIR; prints the image's config.
image_unpack() {
	python3 - "$1" "$2" <<'EOF'
import json, sys, tarfile
arch, root = sys.argv[1], sys.argv[2]
with tarfile.open(arch) as t:
    blob = lambda d: t.extractfile("blobs/" + d.replace(":", "/"))
    index = json.load(t.extractfile("index.json"))
    manifest = json.load(blob(index["manifests"][0]["digest"]))
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=blob(layer["digest"])) as l:
            l.extractall(root, numeric_owner=True)
    print(json.dumps(json.load(blob(manifest["config"]["digest"]))))
EOF
}

# Mount points the DaemonSet's volumes would be; made before the root
# becomes read-only.  /sys/fs/cgroup gets the cgroup v2 root, as the
# DaemonSet's hostPath of the node's /sys/fs/cgroup gives it (TCP health).
IMG_KUBE=/etc/kanary-kube

# image_start BSET CMD...: starts CMD in the background (its pid in
# IMG_PID) from the image's root, read-only, in the node netns and a mount
# namespace of its own, holding only the capabilities of setpriv's bounding
# set BSET ("-all,+bpf").  The pins at the same path inside as outside: the
# status file is named after the pin path, and the host's kanaryctl reads
# it.  Every step execs, so IMG_PID is CMD's.
image_start() {
	local bset=$1
	shift
	mkdir -p "$IMG_ROOT$IMG_KUBE" "$IMG_ROOT/run/kanary" "$IMG_ROOT$KN_PIN" || return 1
	# shellcheck disable=SC2016
	ip netns exec "$KN_NODE" unshare --mount --propagation private -- sh -ec '
		root=$1 pin=$2 run=$3 kube=$4 bset=$5 kubedir=$6
		shift 6
		mount --bind "$root" "$root"
		mount --bind /proc "$root/proc"
		mount --bind /dev "$root/dev"
		mount --bind /sys "$root/sys"
		mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
		mount --bind "$pin" "$root$pin"
		mount --bind "$run" "$root/run/kanary"
		mount --bind "$kube" "$root$kubedir"
		mount -o remount,bind,ro "$root"
		exec env KANARY_RUN_DIR=/run/kanary chroot "$root" setpriv --bounding-set "$bset" --inh-caps -all --no-new-privs -- "$@"
	' sh "$IMG_ROOT" "$KN_PIN" "$KANARY_RUN_DIR" "$KAPI_DIR" "$bset" "$IMG_KUBE" "$@" &
	IMG_PID=$!
}

# caps_bset CAP...: setpriv's bounding set holding exactly those.
caps_bset() {
	local bset=-all cap
	for cap in "$@"; do bset+=",+$cap"; done
	echo "$bset"
}

# caps_mask CAP...: the CapEff mask of exactly those capabilities.
caps_mask() {
	local want=0 cap n
	for cap in "$@"; do
		n=$(python3 -c "import sys; print({'bpf': 39, 'perfmon': 38, 'net_admin': 12, 'net_raw': 13}[sys.argv[1]])" "$cap")
		want=$((want | 1 << n))
	done
	echo "$want"
}

image_kd_start() {
	# shellcheck disable=SC2086
	image_start "$(caps_bset $KD_CAPS)" \
		/usr/local/bin/kanaryd --kube --kubeconfig "$IMG_KUBE/kubeconfig" --pin-path "$KN_PIN" \
		--iface 'h-*' -v 3>&- 2>>"$KD_LOG" || return 1
	KD_PID=$IMG_PID
	export KD_PID
	echo "$KD_PID" >"$KN_TMP/kanaryd.pid"
	kd_wait_applied
}

@test "the image's entry point is kanaryd, and its binaries find their libraries" {
	expect_eq "$(jq -r '.config.Entrypoint | join(" ")' "$KN_TMP/image-config.json")" \
		/usr/local/bin/kanaryd "entry point"
	run chroot "$IMG_ROOT" /usr/local/bin/kanaryctl version
	echo "$output"
	[[ $status == 0 ]]
	run chroot "$IMG_ROOT" /usr/local/bin/kanaryd --help
	[[ $output == *"Usage: kanaryd"* ]]
	run chroot "$IMG_ROOT" /usr/local/bin/kanary-mirror --help
	[[ $output == *"Usage: kanary-mirror"* ]]
	[[ -s $IMG_ROOT/usr/lib/kanary/kanary.bpf.o ]]
}

@test "kanaryd from the image holds only the DaemonSet's capabilities, on a read-only root" {
	local want eff
	# shellcheck disable=SC2086
	want=$(caps_mask $KD_CAPS)
	eff=$(awk '$1 == "CapEff:" {print $2}' "/proc/$KD_PID/status")
	expect_eq "$((16#$eff))" "$want" "kanaryd's effective capabilities"
	expect_eq "$(readlink "/proc/$KD_PID/exe")" "$IMG_ROOT/usr/local/bin/kanaryd" "the binary that runs"
	run touch "/proc/$KD_PID/root/usr/local/bin/written"
	echo "$output"
	[[ $status != 0 && $output == *"Read-only file system"* ]]
}

@test "kanaryd from the image steers 80/20 and follows a watch event" {
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
	measure 500
	expect_share "risky1 risky2" 12 28 "risky share (%)"
	kapi_vs_weights 50 50
	kd_wait_weights "$KD_SERVICE" "safe=50 risky=50"
}

@test "kanaryd from the image, with the DaemonSet's cgroup mount, attaches TCP health to the cgroup root" {
	local link
	link=$(bpftool -j link show pinned "$KN_PIN/link_sockops") ||
		{ echo "FAIL: no TCP health link pinned at $KN_PIN/link_sockops" >&2; return 1; }
	echo "$link"
	expect_eq "$(jq -r .attach_type <<<"$link")" cgroup_sock_ops "the link's attach type"
	# The root of cgroup v2 has id 1, whatever namespace looks at it.
	expect_eq "$(jq -r .cgroup_id <<<"$link")" 1 "the link's cgroup id"
}

# The relay container of deploy/daemonset.yaml: its capabilities (lowercase,
# one line), then its shell script on one line.
relay_container() {
	python3 - "$KN_REPO/deploy/daemonset.yaml" <<'EOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "DaemonSet":
        for c in d["spec"]["template"]["spec"]["containers"]:
            if c["name"] == "kanary-mirror":
                assert c["command"][:2] == ["/bin/sh", "-c"], c["command"]
                print(" ".join(c["securityContext"]["capabilities"]["add"]).lower())
                print(c["command"][2].replace("\n", " "))
EOF
}

@test "the DaemonSet's mirror relay runs from the image with its one capability, and stops on TERM" {
	local caps script log="$KN_TMP/relay.log" eff pid
	{ read -r caps && read -r script; } < <(relay_container) || { echo "no relay container in the DaemonSet" >&2; false; }
	# The same script, on the pins of this test rather than the node's.
	script=${script//\/sys\/fs\/bpf\/kanary/$KN_PIN}
	# shellcheck disable=SC2086
	image_start "$(caps_bset $caps)" /bin/sh -c "$script" 2>"$log" || false
	pid=$IMG_PID RELAY_PID=$IMG_PID
	for _ in $(seq 50); do
		grep -q "relaying from $KN_PIN/kanary_mirbuf_v1" "$log" && break
		sleep 0.1
	done
	cat "$log"
	grep -q "relaying from $KN_PIN/kanary_mirbuf_v1" "$log"
	expect_eq "$(readlink "/proc/$pid/exe")" "$IMG_ROOT/usr/local/bin/kanary-mirror" "the binary that runs"
	eff=$(awk '$1 == "CapEff:" {print $2}' "/proc/$pid/status")
	# shellcheck disable=SC2086
	expect_eq "$((16#$eff))" "$(caps_mask $caps)" "the relay's effective capabilities"
	kill -TERM "$pid"
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null || { echo "FAIL: the relay ignored TERM" >&2; false; }
	RELAY_PID=
}
