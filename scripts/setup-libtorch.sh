#!/usr/bin/env bash
# Provision libtorch for tch: a project-local virtualenv with torch from PyPI.
#
# Idempotent: a second run with the venv in place only re-checks it.
#   LIBTORCH            already set by you: nothing is installed, your libtorch is used.
#   RECSYS_VENV         where the virtualenv lives (default: <repo>/.venv).
#   RECSYS_TORCH_INDEX_URL  a PyTorch index to install from, e.g.
#                       https://download.pytorch.org/whl/cu126 for another CUDA build
#                       (default: PyPI, whose torch 2.11.0 is the CUDA 13 build and runs on CPU too).
# The stable link <repo>/.libtorch points at the venv's torch package; .cargo/config.toml
# hands it to tch as LIBTORCH (not forced, so your own LIBTORCH wins).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
torch_version=2.11.0

if [ -n "${LIBTORCH:-}" ]; then
  echo "setup-libtorch: LIBTORCH is set ($LIBTORCH); leaving it alone" >&2
  exit 0
fi

venv=${RECSYS_VENV:-$root/.venv}
py=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  echo "setup-libtorch: creating virtualenv $venv" >&2
  "$py" -m venv "$venv"
fi

have=$("$venv/bin/python" -c 'import torch, sys; sys.stdout.write(torch.__version__)' 2>/dev/null || true)
if [ "${have%%+*}" != "$torch_version" ]; then
  echo "setup-libtorch: installing torch==$torch_version into $venv (about 5 GB, once)" >&2
  index=()
  if [ -n "${RECSYS_TORCH_INDEX_URL:-}" ]; then
    index=(--index-url "$RECSYS_TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple)
  fi
  "$venv/bin/pip" install --quiet "${index[@]}" "torch==$torch_version"
fi
# The Python twins of the notebooks also need pandas and numpy, and matplotlib to draw the
# notebooks' plots.
if ! "$venv/bin/python" -c 'import pandas, numpy, matplotlib' 2>/dev/null; then
  "$venv/bin/pip" install --quiet pandas numpy matplotlib
fi

torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
tmp_link="$root/.libtorch.tmp.$$"
ln -sfn "$torch_dir" "$tmp_link"
mv -Tf "$tmp_link" "$root/.libtorch"
echo "setup-libtorch: libtorch at $torch_dir (linked as .libtorch)" >&2
