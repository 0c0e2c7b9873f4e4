# Source this file (`. scripts/env.sh`) to put the project's Terraform (.tools/bin/terraform, installed
# by scripts/install-terraform.sh) first on PATH in the current shell.
_hybrid_repo="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
case ":$PATH:" in
  *":$_hybrid_repo/.tools/bin:"*) ;;
  *) export PATH="$_hybrid_repo/.tools/bin:$PATH" ;;
esac
unset _hybrid_repo
