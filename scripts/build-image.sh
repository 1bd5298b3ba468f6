#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make image: kanary's container image as an OCI archive, built with
# Debian's own tools and nothing pulled from a registry.  mmdebstrap makes a
# minimal bookworm root filesystem with kanaryd's runtime libraries and puts
# the binaries built here into it (they are built on bookworm too, against
# the same libraries); podman import turns it into an image without running
# anything in it, so no container runtime is needed.
# Usage: scripts/build-image.sh OUT.tar [TAG]
# Push it with any OCI tool: skopeo copy oci-archive:OUT.tar docker://REGISTRY/kanary:TAG
set -euo pipefail

out=$1
tag=${2:-kanary:0.1.0}
cd "$(dirname "$0")/.."

# The libraries kanaryd, kanaryctl and kanary-mirror link (ldd bin/kanaryd), the CA bundle
# for the API server, and the init container's mount (util-linux, mount:
# both in minbase).
runtime=libbpf1,libelf1,zlib1g,libjansson4,libhttp-parser2.9,libyaml-0-2,libcurl4,libmicrohttpd12,ca-certificates

# The host's own sources when it has them, so the image gets the same
# library versions the binaries were built against.
sources=/etc/apt/sources.list.d/debian.sources
[[ -r $sources ]] || sources=/etc/apt/sources.list
[[ -r $sources ]] || sources=""

work=$(mktemp -d "${TMPDIR:-/tmp}/kanary-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

mmdebstrap --quiet --variant=minbase --include="$runtime" \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	--customize-hook='mkdir -p "$1/usr/local/bin" "$1/usr/lib/kanary" "$1/run/kanary"' \
	--customize-hook='copy-in bin/kanaryd bin/kanaryctl bin/kanary-mirror /usr/local/bin/' \
	--customize-hook='copy-in .output/kanary.bpf.o /usr/lib/kanary/' \
	bookworm "$work/rootfs.tar" ${sources:+"$sources"}

# A private image store, so that the build leaves nothing in the host's.
podman=(podman --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
"${podman[@]}" import --quiet \
	--change 'ENTRYPOINT ["/usr/local/bin/kanaryd"]' --change 'CMD ["--kube"]' \
	--change 'LABEL org.opencontainers.image.title=kanary' \
	"$work/rootfs.tar" "localhost/$tag" >/dev/null
mkdir -p "$(dirname "$out")"
rm -f "$out"
"${podman[@]}" save --quiet --format oci-archive -o "$out.tmp" "localhost/$tag"
mv "$out.tmp" "$out"
echo "image: $out ($tag, $(du -h "$out" | cut -f1))"
