# Shared by scripts/demo and scripts/test: make the virtual environment and install hems into it.
# Sourced, not run. Re-installs only when a pyproject.toml changed since the last install.
set -euo pipefail

HEMS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${HEMS_VENV:-$HEMS_ROOT/.venv}
PYTHON=${PYTHON:-python3}

is_root() { [ "$(id -u)" = 0 ]; }

# apt packages the caller needs: installed when root, otherwise the one command to run is printed.
need_apt() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if is_root; then
        echo "hems: installing ${missing[*]} with apt-get" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "hems: missing system packages. Run this once, then try again:" >&2
        echo "    sudo apt-get install -y ${missing[*]}" >&2
        exit 2
    fi
}

# make_venv "[EXTRA,...]": hems with those extras, editable. The hil extra is the rig's own
# distribution (hil/pyproject.toml), which no package index serves: it is offered from the tree.
make_venv() {
    local extras=$1
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            need_apt python3-venv
            "$PYTHON" -m venv "$VENV"
        fi
        "$VENV/bin/python" -m pip install -q --upgrade pip
    fi
    local stamp="$VENV/.hems-installed$extras"
    if [ ! -f "$stamp" ] || [ "$HEMS_ROOT/pyproject.toml" -nt "$stamp" ] \
        || [ "$HEMS_ROOT/hil/pyproject.toml" -nt "$stamp" ]; then
        local rig=()
        case "$extras" in *hil*) rig=(-e "$HEMS_ROOT/hil") ;; esac
        echo "hems: installing hems$extras into $VENV" >&2
        "$VENV/bin/python" -m pip install -q ${rig[@]+"${rig[@]}"} -e "$HEMS_ROOT$extras"
        touch "$stamp"
    fi
}
