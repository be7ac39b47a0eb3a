#!/usr/bin/env bash
# Refreshes vendor/ from npm: installs the exact versions of package-lock.json
# (package.json on the first run) in a scratch directory and copies the
# minified dist files and the license texts. `make graph-assets` runs it;
# the Go build and the tests only read vendor/.
#
# @dagrejs/dagre is listed for its license: cytoscape-dagre 4 bundles dagre
# (and its graphlib) into its dist file, so that file is the code we ship.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$work/"
if [ -f "$here/package-lock.json" ] && [ "${1:-}" != "--update" ]; then
  cp "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund)
else
  (cd "$work" && npm install --ignore-scripts --no-audit --no-fund --save-exact)
  cp "$work/package-lock.json" "$here/"
fi
m="$work/node_modules"
out="$here/vendor"
rm -rf "$out"
mkdir -p "$out"
cp "$m/cytoscape/dist/cytoscape.min.js" "$out/"
cp "$m/cytoscape/LICENSE" "$out/cytoscape.LICENSE"
cp "$m/cytoscape-dagre/dist/cytoscape-dagre.min.js" "$out/"
cp "$m/cytoscape-dagre/LICENSE" "$out/cytoscape-dagre.LICENSE"
cp "$m/@dagrejs/dagre/LICENSE" "$out/dagre.LICENSE"
cp "$m/@dagrejs/graphlib/LICENSE" "$out/graphlib.LICENSE"
for p in cytoscape cytoscape-dagre @dagrejs/dagre @dagrejs/graphlib; do
  printf '%s %s\n' "$p" "$(node -p "require('$m/$p/package.json').version")"
done >"$out/VERSIONS"
cat "$out/VERSIONS"
