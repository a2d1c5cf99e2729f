#!/usr/bin/env bash
# Provision libtorch for tch: a project-local virtualenv with torch 2.11.0 from PyPI.
#
#   scripts/setup-libtorch.sh           make it so (quiet when there is nothing to do)
#   scripts/setup-libtorch.sh --check   say what it finds and what it would do; change nothing
#                                       (exit 0: nothing to do, 1: something would change)
#
# Idempotent: a second run with the venv in place only re-checks it.
#   LIBTORCH            already set by you: nothing is installed; its version must be 2.11.
#   RECSYS_VENV         where the virtualenv lives (default: <repo>/.venv).
#   RECSYS_TORCH_INDEX_URL  a PyTorch index to install from, e.g.
#                       https://download.pytorch.org/whl/cu126 for the CUDA 12.6 build,
#                       .../whl/cu128, .../whl/cu130, or .../whl/cpu (default: PyPI, whose
#                       torch 2.11.0 is the CUDA 13.0 build and runs on CPU too). When the URL
#                       ends in a variant (cu126, cpu, ...), the installed torch's local tag
#                       (2.11.0+cu130) must match it, else torch is reinstalled as that variant
#                       and the cargo artifacts linked against the old one are cleaned. Without
#                       it, any 2.11.0 build already installed is kept.
# The stable link <repo>/.libtorch points at the venv's torch package; .cargo/config.toml
# hands it to tch as LIBTORCH (not forced, so your own LIBTORCH wins). docs/cuda.md has which
# NVIDIA driver each variant needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
torch_version=2.11.0
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *)
    echo "setup-libtorch: unknown argument $1 (only --check)" >&2
    exit 2
    ;;
esac

# The version of a libtorch directory: version.py in a Python torch package, build-version in
# a libtorch archive.
dir_version() {
  if [ -f "$1/version.py" ]; then
    sed -n "s/^__version__ *= *['\"]\([^'\"]*\)['\"].*/\1/p" "$1/version.py" | head -n 1
  elif [ -f "$1/build-version" ]; then
    head -n 1 "$1/build-version"
  fi
}

if [ -n "${LIBTORCH:-}" ]; then
  v=$(dir_version "$LIBTORCH")
  case "$v" in
    "${torch_version%.*}".*)
      [ "$check" = 1 ] && echo "setup-libtorch: LIBTORCH is set ($LIBTORCH, torch $v): nothing to do" >&2
      exit 0
      ;;
    "")
      echo "setup-libtorch: LIBTORCH is set ($LIBTORCH, version unknown); leaving it alone" >&2
      exit 0
      ;;
    *)
      echo "setup-libtorch: LIBTORCH=$LIBTORCH is torch $v, but tch 0.24 needs $torch_version: unset LIBTORCH or point it at a torch $torch_version" >&2
      exit 1
      ;;
  esac
fi

venv=${RECSYS_VENV:-$root/.venv}
py=${PYTHON:-python3}
index_url=${RECSYS_TORCH_INDEX_URL:-}
# The variant an index URL names: its last path segment, when it looks like one.
want_tag=""
last=${index_url%/}
last=${last##*/}
if [[ -n "$index_url" && "$last" =~ ^(cu[0-9]+|cpu|rocm[0-9.]+|xpu)$ ]]; then
  want_tag=$last
fi
spec="torch==$torch_version${want_tag:++$want_tag}"

# What is there: the torch version (with its local tag) and its directory, from one import.
have="" torch_dir=""
if [ -x "$venv/bin/python" ]; then
  found=$("$venv/bin/python" -c 'import os, torch; print(torch.__version__); print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
  have=$(printf '%s\n' "$found" | sed -n 1p)
  torch_dir=$(printf '%s\n' "$found" | sed -n 2p)
fi
from=${index_url:-PyPI}
if [ ! -x "$venv/bin/python" ]; then
  reason="no virtualenv at $venv"
elif [ -z "$have" ]; then
  reason="no torch that imports in $venv"
elif [ "${have%%+*}" != "$torch_version" ]; then
  reason="found torch $have in $venv, need $torch_version"
elif [ -n "$want_tag" ] && [ "${have#*+}" != "$want_tag" ]; then
  reason="found torch $have in $venv, RECSYS_TORCH_INDEX_URL asks for +$want_tag"
else
  reason=""
fi

if [ "$check" = 1 ]; then
  if [ -n "$reason" ]; then
    echo "setup-libtorch: $reason: would install $spec from $from" >&2
    exit 1
  fi
  if [ "$(readlink "$root/.libtorch" 2>/dev/null)" != "$torch_dir" ]; then
    echo "setup-libtorch: found torch $have in $venv: would link .libtorch to $torch_dir" >&2
    exit 1
  fi
  echo "setup-libtorch: found torch $have in $venv${want_tag:+ (+$want_tag asked)}: nothing to do" >&2
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "setup-libtorch: creating virtualenv $venv" >&2
  "$py" -m venv "$venv"
fi
if [ -n "$reason" ]; then
  rebuilt=""
  if [ -n "$have" ]; then
    rebuilt="; torch-sys and recsys will be rebuilt against it"
  fi
  echo "setup-libtorch: $reason: installing $spec from $from (a few GB)$rebuilt" >&2
  index=()
  if [ -n "$index_url" ]; then
    index=(--index-url "$index_url" --extra-index-url https://pypi.org/simple)
  fi
  "$venv/bin/pip" install --quiet "${index[@]}" "$spec"
  found=$("$venv/bin/python" -c 'import os, torch; print(torch.__version__); print(os.path.dirname(torch.__file__))')
  now=$(printf '%s\n' "$found" | sed -n 1p)
  torch_dir=$(printf '%s\n' "$found" | sed -n 2p)
  if [ "${now%%+*}" != "$torch_version" ] || { [ -n "$want_tag" ] && [ "${now#*+}" != "$want_tag" ]; }; then
    echo "setup-libtorch: pip left torch $now in $venv, not $spec; remove $venv and run again" >&2
    exit 1
  fi
  # Another build of libtorch under the same path: tch's torch-sys and recsys were linked
  # against the old one (libtorch_cuda is there or not), and cargo does not see the change.
  if [ -n "$have" ] && [ "$have" != "$now" ] && command -v cargo >/dev/null; then
    cargo clean --quiet --manifest-path "$root/Cargo.toml" -p torch-sys -p recsys 2>/dev/null || true
  fi
fi
# The Python twins of the notebooks also need pandas and numpy, and matplotlib to draw the
# notebooks' plots.
if ! "$venv/bin/python" -c 'import pandas, numpy, matplotlib' 2>/dev/null; then
  echo "setup-libtorch: installing pandas, numpy and matplotlib into $venv (for the Python twins)" >&2
  "$venv/bin/pip" install --quiet pandas numpy matplotlib
fi

if [ "$(readlink "$root/.libtorch" 2>/dev/null)" != "$torch_dir" ]; then
  tmp_link="$root/.libtorch.tmp.$$"
  ln -sfn "$torch_dir" "$tmp_link"
  mv -Tf "$tmp_link" "$root/.libtorch"
  echo "setup-libtorch: libtorch at $torch_dir (torch $(dir_version "$torch_dir"), linked as .libtorch)" >&2
fi
