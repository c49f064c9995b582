# Prepares this checkout to run Bulwark and its tests. Source it (it puts Node 24 on your PATH):
#   source scripts/setup.sh
# Idempotent: each step is skipped when already done.
#   1. Node 24 LTS first on PATH (scripts/node24.sh)
#   2. system packages the tests use (Debian): Chromium for the browser tests, Ceph RGW for the real S3
#      server with Object Lock, restic + borg for the side-by-side benchmark  (root or sudo; skipped if present)
#   3. npm ci (when node_modules is missing or older than package-lock.json)
#   4. build (TypeScript -> dist/)
_bw_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_bw_setup() {
  . "$_bw_root/scripts/node24.sh" || return 1
  local need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v radosgw >/dev/null 2>&1 || need+=(radosgw ceph-mon ceph-osd ceph-common)
  command -v uuidgen >/dev/null 2>&1 || need+=(uuid-runtime)
  command -v bc >/dev/null 2>&1 || need+=(bc)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v restic >/dev/null 2>&1 || need+=(restic)
  command -v borg >/dev/null 2>&1 || need+=(borgbackup)
  if [ ${#need[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "setup: installing ${need[*]}" >&2
    $sudo apt-get update -qq >&2 &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 || {
        echo "setup: apt-get install failed (${need[*]})" >&2
        return 1
      }
  fi
  if [ ! -d "$_bw_root/node_modules" ] || [ "$_bw_root/package-lock.json" -nt "$_bw_root/node_modules/.package-lock.json" ]; then
    (cd "$_bw_root" && npm ci --no-audit --no-fund >&2) || return 1
  fi
  (cd "$_bw_root" && npm run --silent build >&2) || return 1
}
_bw_setup
