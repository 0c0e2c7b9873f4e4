#!/usr/bin/env bash
# Scheduled drift check: plans without locking the state and reports what changed outside Terraform.
# Exit status as `terraform plan -detailed-exitcode`: 0 no drift, 1 error, 2 drift (report printed).
#
#   drift-check.sh [TERRAFORM_DIR]     (TERRAFORM defaults to `terraform` on PATH)
set -uo pipefail
dir="${1:-.}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tf="${TERRAFORM:-terraform}"
plan="$(mktemp)"
trap 'rm -f "$plan" "$plan.json"' EXIT

"$tf" -chdir="$dir" plan -detailed-exitcode -lock=false -input=false -no-color -out="$plan" >"$plan.log" 2>&1
code=$?
case "$code" in
  0) echo "No drift: the infrastructure matches the configuration."; rm -f "$plan.log"; exit 0 ;;
  2) ;;
  *) cat "$plan.log" >&2; rm -f "$plan.log"; echo "drift-check: terraform plan failed (exit $code)" >&2; exit 1 ;;
esac
rm -f "$plan.log"
"$tf" -chdir="$dir" show -json "$plan" >"$plan.json" || { echo "drift-check: terraform show failed" >&2; exit 1; }
python3 "$here/drift-report.py" "$plan.json"
exit 2
