#!/usr/bin/env bash
# Builds the release artifacts of a Terraform provider and a local filesystem mirror from them:
#   dist/<version>/terraform-provider-hybrid_<version>_<os>_<arch>.zip   (binary terraform-provider-hybrid_v<version>)
#   dist/<version>/terraform-provider-hybrid_<version>_SHA256SUMS
#   dist/<version>/terraform-provider-hybrid_<version>_manifest.json      (terraform-registry-manifest.json)
#   dist/mirror/registry.terraform.io/hybridops/hybrid/<zip>              (packed filesystem-mirror layout)
# The detached SHA256SUMS.sig is made by the release pipeline with the maintainers' GPG key;
# no key exists here, so none is produced.
#
#   bash scripts/release.sh [--version V] [--profile release|debug] [--out DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' Cargo.toml)"
profile=release
out="$repo/dist"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# Targets we can build here: the host, plus any installed rustup target we know the name of.
declare -A platforms=([x86_64-unknown-linux-gnu]=linux_amd64 [aarch64-unknown-linux-gnu]=linux_arm64 [x86_64-apple-darwin]=darwin_amd64 [aarch64-apple-darwin]=darwin_arm64)
host="$(rustc -vV | sed -n 's/^host: //p')"
targets=("$host")
for t in $(rustup target list --installed 2>/dev/null || true); do
  [[ "$t" != "$host" && -n "${platforms[$t]:-}" ]] && targets+=("$t")
done

dist="$out/$version"
mirror="$out/mirror/registry.terraform.io/hybridops/hybrid"
rm -rf "$dist" && mkdir -p "$dist" "$mirror"
flag=(); [[ "$profile" == release ]] && flag=(--release)

for target in "${targets[@]}"; do
  platform="${platforms[$target]:-}"
  if [[ -z "$platform" ]]; then echo "skipping $target: no Terraform platform name known" >&2; continue; fi
  if [[ "$target" == "$host" ]]; then
    cargo build --quiet "${flag[@]}" -p terraform-provider-hybrid
    bin="$repo/target/$profile/terraform-provider-hybrid"
  else
    if ! cargo build --quiet "${flag[@]}" --target "$target" -p terraform-provider-hybrid; then
      echo "skipping $target: build failed (linker or C toolchain for it missing?)" >&2; continue
    fi
    bin="$repo/target/$target/$profile/terraform-provider-hybrid"
  fi
  zip="$dist/terraform-provider-hybrid_${version}_${platform}.zip"
  # Deterministic zip: fixed timestamp and mode, so the same binary gives the same hash.
  python3 - "$bin" "$zip" "terraform-provider-hybrid_v$version" <<'PY'
import sys, zipfile
src, dst, name = sys.argv[1:]
info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
info.external_attr = 0o755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=6)
PY
  cp "$zip" "$mirror/"
  echo "built $(basename "$zip")"
done

cp "$repo/terraform-registry-manifest.json" "$dist/terraform-provider-hybrid_${version}_manifest.json"
(cd "$dist" && sha256sum terraform-provider-hybrid_"${version}"_*.zip terraform-provider-hybrid_"${version}"_manifest.json >"terraform-provider-hybrid_${version}_SHA256SUMS")
echo "artifacts: $dist"
echo "mirror:    $out/mirror"
