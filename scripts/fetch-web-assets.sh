#!/usr/bin/env bash
# Fetches the Swagger UI and ReDoc files that the server embeds for /docs and /redoc, from the npm
# registry, at pinned versions checked against their published sha512 integrity. Only the
# package tarballs are downloaded (`npm pack`), never their dependency trees.
# Usage: scripts/fetch-web-assets.sh <output directory>
set -euo pipefail
out="$1"
mkdir -p "$out"

# package@version, npm dist.integrity, files to take from the tarball
assets=(
  "swagger-ui-dist@5.35.0|sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==|swagger-ui-bundle.js swagger-ui.css"
  "redoc@2.5.0|sha512-NpYsOZ1PD9qFdjbLVBZJWptqE+4Y6TkUuvEOqPUmoH7AKOmPcE+hYjotLxQNTqVoWL4z0T2uxILmcc8JGDci+Q==|bundles/redoc.standalone.js"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for entry in "${assets[@]}"; do
  IFS='|' read -r package integrity files <<<"$entry"
  present=1
  for f in $files; do [ -s "$out/$(basename "$f")" ] || present=0; done
  [ "$present" = 1 ] && continue

  tarball="$(cd "$work" && npm pack "$package" --silent --no-fund --no-audit | tail -n 1)"
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "fetch-web-assets: $package: integrity mismatch ($actual)" >&2
    exit 1
  fi
  tar -xzf "$work/$tarball" -C "$work"
  for f in $files; do cp "$work/package/$f" "$out/$(basename "$f")"; done
  rm -rf "$work/package"
done
