#!/usr/bin/env bash
# Sourced by tools/setup_env.sh, setup_compat_env.sh and setup_export_env.sh. find_python prints
# the Python to build a venv on; ensure_venv DIR LOG creates the venv at DIR with it unless it
# exists; install_pinned DIR REQS LOG installs a pinned requirements file into it. The
# version is $REPVIT_PYTHON_VERSION, default the board's Python (3.10; the Jazzy environment asks
# for Ubuntu 24.04's 3.12): pyenv's (its `pythonX.Y` shim fails unless pyenv selects it, so the
# interpreter is taken from pyenv's versions folder), then a pythonX.Y on PATH, then any python3
# at least that new.
find_python() {
  local want="${REPVIT_PYTHON_VERSION:-3.10}" cand
  if command -v pyenv >/dev/null 2>&1; then
    for cand in "$(pyenv root)"/versions/"$want".*/bin/python"$want"; do
      [ -x "$cand" ] && { echo "$cand"; return; }
    done
  fi
  for cand in "/usr/bin/python$want" "python$want" python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$want'.split('.'))))" \
         2>/dev/null; then
      command -v "$cand"; return
    fi
  done
  echo "no Python >= $want found (install python$want)" >&2
  exit 1
}

ensure_venv() {
  local venv="$1" log="$2" py
  if [ ! -x "$venv/bin/python" ]; then
    py="$(find_python)"
    "$log" "creating venv $venv with $py"
    "$py" -m venv "$venv"
  fi
}

# install_pinned VENV REQS LOG [WHAT] [AFTER]: pip-install REQS into VENV and check that every
# pin holds together as installed (nothing pulled a newer numpy...), then run `AFTER VENV` when
# given; skipped while REQS and the files its `-r` lines name are unchanged (a sha256 stamp in
# the venv), so a re-run takes well under a second. WHAT is said while it runs.
install_pinned() {
  local venv="$1" reqs="$2" log="$3" what="${4:-}" after="${5:-}" stamp want included
  stamp="$venv/.requirements.sha256"
  included="$(sed -n 's/^-r[[:space:]]*//p' "$reqs" | sed "s|^|$(dirname "$reqs")/|")"
  # shellcheck disable=SC2086 - one path per line, none with spaces
  want="$(cat "$reqs" $included | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$log" "installing pinned packages from ${reqs#"$ROOT"/}${what:+ ($what)}"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" 2>&1 |
      { grep -v "is ignored: it is neither a file nor a directory" || true; }
    "$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null || {
      "$venv/bin/python" -m pip check --disable-pip-version-check; exit 1; }
    if [ -n "$after" ]; then "$after" "$venv"; fi
    echo "$want" > "$stamp"
  fi
}
