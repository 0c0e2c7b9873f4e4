#!/usr/bin/env bash
# Performance report (not a test): handshake latency, idle RSS, and plan time for 200 data
# source reads versus Terraform's own terraform_data floor. Uses the release build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TF_ACC_TERRAFORM_PATH="${TF_ACC_TERRAFORM_PATH:-$(bash scripts/install-terraform.sh)}"
export TF_ACC_TERRAFORM_PATH
cargo build --release -p terraform-provider-hybrid -p acceptance-tests --bin terraform-provider-hybrid --bin bench
export TF_ACC_PROVIDER_PATH="${TF_ACC_PROVIDER_PATH:-$PWD/target/release/terraform-provider-hybrid}"
exec target/release/bench
