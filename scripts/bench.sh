#!/usr/bin/env bash
# Performance report (not a test), from a release build: provider handshake latency, idle RSS,
# and `terraform plan` time for 200 hybrid_datapath_image reads against 200 terraform_data
# resources (Terraform's in-process floor), each with its target and PASS/FAIL.
# Exit status 0 when every target is met. Options go to the bench binary (try --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z "${TF_ACC_TERRAFORM_PATH:-}" ]]; then
  TF_ACC_TERRAFORM_PATH="$(bash scripts/install-terraform.sh)"
fi
export TF_ACC_TERRAFORM_PATH

echo "building release binaries (provider, bench) ..." >&2
cargo build --quiet --release -p terraform-provider-hybrid -p acceptance-tests \
  --bin terraform-provider-hybrid --bin bench

target_dir="${CARGO_TARGET_DIR:-target}"
# The bench measures the release provider next to it unless TF_ACC_PROVIDER_PATH says otherwise.
exec "$target_dir/release/bench" "$@"
