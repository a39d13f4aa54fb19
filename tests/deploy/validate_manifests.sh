#!/usr/bin/env bash
# ctest deploy_manifests: the Kubernetes manifests in deploy/kubernetes,
# validated offline (no cluster) by tests/deploy/validate_manifests.js:
# every document against the Kubernetes schemas of its apiVersion/kind, the
# kustomization against the files, the project's policies, the containers'
# arguments against this build's ncbocr. Then the rendered kustomization
# (kubectl kustomize) the same way, where kubectl is installed. Then proof
# that the validator can fail: deliberately broken copies must each be
# rejected with the reason.
#
# Environment: NCBOCR (the binary), SOURCE_DIR (the checkout), NCBOCR_NPM_DIR
# (default SOURCE_DIR/build/npm/deploy: scripts/setup.sh --test-deps puts
# the pinned npm packages there).
source "$(dirname "$0")/../cli/lib.bash"

manifests=$SOURCE_DIR/deploy/kubernetes
validator=$SOURCE_DIR/tests/deploy/validate_manifests.js
npm_dir=${NCBOCR_NPM_DIR:-$SOURCE_DIR/build/npm/deploy}
lock=$SOURCE_DIR/tests/deploy/package-lock.json

# Missing packages fail the test (never a skip): the fix is one command.
if ! command -v node >/dev/null 2>&1; then
  echo "deploy_manifests: node is not installed; run scripts/setup.sh --test-deps" >&2
  exit 1
fi
if [ ! -d "$npm_dir/node_modules" ] ||
   [ "$(cat "$npm_dir/.lock-sha256" 2>/dev/null)" != "$(sha256sum "$lock" | cut -d' ' -f1)" ]; then
  echo "deploy_manifests: the npm packages of tests/deploy/package-lock.json are not installed in $npm_dir; run scripts/setup.sh --test-deps" >&2
  exit 1
fi
export NODE_PATH=$npm_dir/node_modules
validate() { node "$validator" --ncbocr "$NCBOCR" "$@"; }

echo "validator: kubernetes-models $(node -p 'require("kubernetes-models/package.json").version')," \
  "typescript $(node -p 'require("typescript").version'), js-yaml $(node -p 'require("js-yaml/package.json").version')"

# 1. The manifests as committed.
if validate --dir "$manifests" >"$WORK/out" 2>&1; then pass; else fail "deploy/kubernetes does not validate"; fi
cat "$WORK/out"

# 2. As kustomize renders them (namespace, labels, image set).
if command -v kubectl >/dev/null 2>&1; then
  if kubectl kustomize "$manifests" >"$WORK/rendered.yaml" 2>"$WORK/err"; then
    pass
    if validate --rendered "$WORK/rendered.yaml" >"$WORK/out" 2>&1; then pass; else fail "the rendered kustomization does not validate"; fi
    sed 's/^/rendered: /' "$WORK/out"
    expect_grep '^  namespace: ncbocr$' "$WORK/rendered.yaml"
  else
    fail "kubectl kustomize deploy/kubernetes failed"; sed 's/^/  | /' "$WORK/err" >&2
  fi
else
  echo "kubectl is not installed: the kustomization was not rendered (each file was validated)"
fi

# 3. Broken copies, each rejected with its reason.
# broken NAME FILE SED-SCRIPT EXPECTED-REGEX: copy the manifests, apply the
# sed script to FILE (it must change it), expect a failure naming EXPECTED.
n=0
broken() {
  local name=$1 file=$2 script=$3 want=$4
  n=$((n + 1))
  local dir=$WORK/broken$n
  cp -r "$manifests" "$dir"
  sed -i -e "$script" "$dir/$file"
  if cmp -s "$manifests/$file" "$dir/$file"; then
    fail "broken copy '$name': the sed script did not change $file"
    return
  fi
  check_rejected "$name" "$dir" "$want"
}
check_rejected() {
  local name=$1 dir=$2 want=$3 got=0
  validate --dir "$dir" >"$WORK/out" 2>&1 || got=$?
  if [ "$got" != 1 ]; then
    fail "broken copy '$name' was not rejected (exit $got)"; sed 's/^/  | /' "$WORK/out" >&2
  elif ! grep -Eq -- "$want" "$WORK/out"; then
    fail "broken copy '$name' was rejected, but not for /$want/"; sed 's/^/  | /' "$WORK/out" >&2
  else
    pass
  fi
}

# Schemas: unknown fields, wrong types, bad values, unknown kinds.
broken "misspelled field" cronjob-extract.yaml 's/startingDeadlineSeconds:/startingDeadlineSecond:/' \
  "startingDeadlineSecond.*does not exist in type 'ICronJobSpec'"
broken "misspelled container field" cronjob-ocr.yaml '0,/imagePullPolicy:/s//imagePullPolicyy:/' \
  "imagePullPolicyy.*does not exist in type 'IContainer'"
broken "wrong type" cronjob-submit.yaml 's/backoffLimit: 0/backoffLimit: none/' \
  "backoffLimit must be integer"
broken "bad quantity" cronjob-ocr.yaml 's/memory: 2Gi}/memory: 2 gigs}/' \
  'limits/memory must match format "quantity"'
broken "bad enum" pvc-backups.yaml 's/\[ReadWriteOnce\]/[ReadWriteSometimes]/' \
  "accessModes.*ReadWriteSometimes|accessModes/0 must be equal to one of the allowed values"
broken "unknown kind" namespace.yaml '$a ---\napiVersion: v1\nkind: Podd\nmetadata: {name: x}' \
  "unknown apiVersion/kind v1/Podd"
broken "missing required field" cronjob-backup.yaml '/^  schedule:/d' \
  "must have required property 'schedule'|must have required property schedule"

# The kustomization and the files.
broken "listed file missing" kustomization.yaml 's/cronjob-extract.yaml/cronjob-extrakt.yaml/' \
  "resource cronjob-extrakt.yaml does not exist"
n=$((n + 1)); cp -r "$manifests" "$WORK/broken$n"; cp "$manifests/pvc-backups.yaml" "$WORK/broken$n/pvc-extra.yaml"
check_rejected "unlisted file" "$WORK/broken$n" "pvc-extra.yaml: is not listed in kustomization.yaml"

# Policies.
broken "no Forbid" cronjob-archive.yaml 's/concurrencyPolicy: Forbid/concurrencyPolicy: Allow/' \
  "concurrencyPolicy is Allow, not Forbid"
broken "ocr without parallelism" cronjob-ocr.yaml 's/parallelism: 2/parallelism: 1/' \
  "parallelism 1: the ocr stage's pods share its queue"
broken "ocr completions below parallelism" cronjob-ocr.yaml 's/completions: 2/completions: 1/' \
  "completions 1 below parallelism 2"
broken "extract parallelism" cronjob-extract.yaml 's/activeDeadlineSeconds: 3600/activeDeadlineSeconds: 3600\n      parallelism: 2/' \
  "parallelism 2: a second pod of this stage finds the stage lock held"
broken "root allowed" cronjob-extract.yaml 's/runAsNonRoot: true/runAsNonRoot: false/' \
  "runAsNonRoot is not true"
broken "writable root" cronjob-submit.yaml '0,/readOnlyRootFilesystem: true/s//readOnlyRootFilesystem: false/' \
  "container secrets: readOnlyRootFilesystem is not true"
broken "secret mode" cronjob-fetch.yaml 's/defaultMode: 256 /defaultMode: 420 /' \
  "secret volume secret-volume has defaultMode 420, not 0400"
broken "secret mounted writable" cronjob-submit.yaml 's|mountPath: /run/ncbocr/secret-volume, readOnly: true|mountPath: /run/ncbocr/secret-volume|' \
  "mounts secret volume secret-volume writable"
broken "spool not shared" pvc-spool.yaml 's/\[ReadWriteMany\]/[ReadWriteOnce]/' \
  "the spool's volume must be ReadWriteMany"
broken "no limits" cronjob-extract.yaml '/limits: {cpu: 500m, memory: 256Mi}/d' \
  "container ncbocr: no resources.limits.cpu"
broken "no /tmp" cronjob-ocr.yaml '/{name: tmp, mountPath: \/tmp}/d' \
  "no volume at /tmp"
broken "backup on the spool's volume" cronjob-backup.yaml 's/claimName: ncbocr-backups/claimName: ncbocr-spool/' \
  "is not a second PersistentVolumeClaim"
broken "not a subcommand" cronjob-submit.yaml 's/args: \["-q", "submit"\]/args: ["-q", "sumbit"]/' \
  "'ncbocr -q sumbit' is not a command this ncbocr has"
broken "a stage without a CronJob" kustomization.yaml '/cronjob-archive.yaml/d' \
  "no CronJob runs ncbocr archive"
broken "configuration ncbocr refuses" configmap.yaml 's/keep_days: 30/keep_day: 30/' \
  "ncbocr.yaml does not load in ncbocr \(status exit 78\)"
broken "no Pushgateway" configmap.yaml '/pushgateway_url:/d' \
  "metrics.pushgateway_url is not set"
broken "one instance per pod" configmap.yaml '/instance: ncbocr/d' \
  "metrics.instance is not set"
broken "one host name for every pod" cronjob-fetch.yaml 's/^          restartPolicy: Never/          restartPolicy: Never\n          hostname: ncbocr/' \
  "hostname ncbocr: every pod alike"

finish
