#!/usr/bin/env bash
# Fetches the minimal ("integ-test") distributions of Elasticsearch and OpenSearch from Maven
# Central, unpacks each once into a cache, and prints their paths (KEY=VALUE lines):
#
#   IPTABLES_OTEL_ELASTICSEARCH_HOME=<dir with bin/elasticsearch>
#   IPTABLES_OTEL_OPENSEARCH_HOME=<dir with bin/opensearch>
#   IPTABLES_OTEL_SEARCH_USER=<non-root user that runs them>
#
# Cache: ${XDG_CACHE_HOME:-~/.cache}/iptables-otel/search-engines/<name>-<version>/ (the zips stay
# in ~/.m2). A second run with everything in place prints the same lines at once.
# Both engines refuse to run as root: the script creates a system user for them (as root only)
# and gives it the unpacked trees. test/helpers/search-engine.ts reads the same cache.
#
# Environment:
#   ELASTICSEARCH_VERSION   default 8.19.0
#   OPENSEARCH_VERSION      default 2.19.6
#   IPTABLES_OTEL_SEARCH_USER  default iptables-otel-search
set -euo pipefail

es_version="${ELASTICSEARCH_VERSION:-8.19.0}"
os_version="${OPENSEARCH_VERSION:-2.19.6}"
user="${IPTABLES_OTEL_SEARCH_USER:-iptables-otel-search}"
cache_root="${XDG_CACHE_HOME:-${HOME}/.cache}/iptables-otel/search-engines"
m2="${MAVEN_REPO:-${HOME}/.m2/repository}"

mkdir -p "${cache_root}"
# Two CI steps or test workers may ask at once: unpack only once.
exec 9>"${cache_root}/fetch.lock"
flock 9

if [[ "$(id -u)" == 0 ]] && ! id -u "${user}" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin --user-group "${user}" >&2
fi

# fetch GROUP ARTIFACT VERSION NAME -> prints the unpacked home directory
fetch() {
  local group="$1" artifact="$2" version="$3" name="$4"
  local home="${cache_root}/${name}-${version}"
  if [[ ! -x "${home}/bin/${name}" ]]; then
    local zip="${m2}/${group//.//}/${artifact}/${version}/${artifact}-${version}.zip"
    if [[ ! -f "${zip}" ]]; then
      command -v mvn >/dev/null 2>&1 || { echo "fetch-search-engines: 'mvn' not found on PATH" >&2; exit 2; }
      mvn -q dependency:get -Dartifact="${group}:${artifact}:${version}:zip" -Dtransitive=false >&2
    fi
    local tmp
    tmp="$(mktemp -d "${cache_root}/.unpack-XXXXXX")"
    unzip -q "${zip}" -d "${tmp}"
    # The zip holds one top-level folder, <name>-<version>/.
    rm -rf "${home}"
    mv "${tmp}/${name}-${version}" "${home}"
    rmdir "${tmp}"
  fi
  if [[ "$(id -u)" == 0 ]]; then
    # The engine writes its keystore and temp files under config/: the run user owns the tree.
    chown -R "${user}:" "${home}"
    # ...and must be able to reach it through the cache's parent folders (root's ~ is 0700).
    local d="${home}"
    while d="$(dirname "${d}")" && [[ "${d}" != / ]]; do
      chmod o+x "${d}" 2>/dev/null || true
    done
  fi
  printf '%s\n' "${home}"
}

es_home="$(fetch org.elasticsearch.distribution.integ-test-zip elasticsearch "${es_version}" elasticsearch)"
os_home="$(fetch org.opensearch.distribution.integ-test-zip opensearch "${os_version}" opensearch)"

printf 'IPTABLES_OTEL_ELASTICSEARCH_HOME=%s\n' "${es_home}"
printf 'IPTABLES_OTEL_OPENSEARCH_HOME=%s\n' "${os_home}"
printf 'IPTABLES_OTEL_SEARCH_USER=%s\n' "${user}"
