#!/usr/bin/env bash
# Builds the reference OpenTelemetry Collector from test/collector/builder-config.yaml
# with the OpenTelemetry Collector Builder and prints the binary's absolute path.
#
# The binary is cached outside the repository in
#   ${XDG_CACHE_HOME:-~/.cache}/iptables-otel/otelcol-<sha256 of manifest, 16 hex>/
# so a second run with an unchanged manifest returns at once. GOPATH (module
# cache) and GOCACHE live under ${XDG_CACHE_HOME:-~/.cache}/iptables-otel/go so
# a rebuild after a manifest edit reuses downloaded modules and compiled packages.
#
# Environment:
#   IPTABLES_OTEL_OTELCOL  if set and executable, printed as-is (no build)
#   GOMAXPROCS             default 2 (CI and dev boxes here are small)
#   OTELCOL_BUILD_NICE     nice level for the build, default 10
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="${repo_root}/test/collector/builder-config.yaml"

if [[ -n "${IPTABLES_OTEL_OTELCOL:-}" && -x "${IPTABLES_OTEL_OTELCOL}" ]]; then
  printf '%s\n' "${IPTABLES_OTEL_OTELCOL}"
  exit 0
fi

command -v go >/dev/null 2>&1 || { echo "build-collector: 'go' not found on PATH" >&2; exit 2; }

# Must match the builder version pinned in the manifest (the components' v0.X.0).
builder_version="v0.137.0"

cache_root="${XDG_CACHE_HOME:-${HOME}/.cache}/iptables-otel"
hash="$(sha256sum "${manifest}" | cut -c1-16)"
out_dir="${cache_root}/otelcol-${hash}"
binary="${out_dir}/otelcol-iptables-otel"

if [[ -x "${binary}" ]]; then
  printf '%s\n' "${binary}"
  exit 0
fi

mkdir -p "${cache_root}"
# Two test workers (or two CI steps) may ask at once; build only once.
exec 9>"${cache_root}/build.lock"
flock 9
if [[ -x "${binary}" ]]; then
  printf '%s\n' "${binary}"
  exit 0
fi

export GOPATH="${cache_root}/go"
export GOCACHE="${cache_root}/go/build-cache"
export GOMODCACHE="${GOPATH}/pkg/mod"
export GOFLAGS="-mod=mod"
export GOMAXPROCS="${GOMAXPROCS:-2}"
# Use the installed toolchain; never download another one mid-build.
export GOTOOLCHAIN=local
export CGO_ENABLED=0
# Checksum database: sum.golang.org is not reachable directly here, and the proxy's
# /sumdb/ mirror answers 404 for the OpenTelemetry and Elastic modules (it does answer for
# others). Those module paths are exempted from the lookup only; they still come from the
# proxy over TLS and go.sum pins their hashes for the rest of the build, and every other
# dependency is still verified. A caller's own GONOSUMDB wins. See docs/testing.md.
export GONOSUMDB="${GONOSUMDB:-go.opentelemetry.io,github.com/open-telemetry,github.com/elastic}"
nice_level="${OTELCOL_BUILD_NICE:-10}"

start="$(date +%s)"
gobin="${cache_root}/go/bin"
builder="${gobin}/builder-${builder_version}"
if [[ ! -x "${builder}" ]]; then
  echo "build-collector: installing builder ${builder_version}" >&2
  GOBIN="${gobin}" nice -n "${nice_level}" go install "go.opentelemetry.io/collector/cmd/builder@${builder_version}" >&2
  mv "${gobin}/builder" "${builder}"
fi

work="$(mktemp -d "${cache_root}/work.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
# Build into a scratch dir, then move the binary into place so an interrupted
# build never leaves a half-written "cached" binary behind.
sed -E "s#^([[:space:]]*output_path:).*#\\1 ${work}/src#" "${manifest}" > "${work}/manifest.yaml"
echo "build-collector: building ${manifest} -> ${binary}" >&2
# --skip-get-modules: the builder's `go mod tidy` would also resolve the components' *test*
# dependencies (some are not served by the proxy); `go build -mod=mod` fetches only what
# the binary imports.
nice -n "${nice_level}" "${builder}" --skip-get-modules --config="${work}/manifest.yaml" >&2

mkdir -p "${out_dir}"
cp "${manifest}" "${out_dir}/builder-config.yaml"
mv "${work}/src/otelcol-iptables-otel" "${binary}.tmp"
mv "${binary}.tmp" "${binary}"
end="$(date +%s)"
echo "build-collector: done in $((end - start))s" >&2
printf 'build seconds: %s\ngo: %s\nbuilt: %s\n' "$((end - start))" "$(go version)" "$(date -u +%FT%TZ)" > "${out_dir}/build-info.txt"
printf '%s\n' "${binary}"
