#!/bin/sh
# Install hems as a system service: user and groups, /etc/hems, a venv under /opt/hems,
# the unit, then enable and start it. Idempotent: run it again to upgrade.
#
#   sudo systemd/install.sh [--dry-run] [--source DIR] [--config FILE] [--no-start]
#
# --dry-run   print every step, change nothing (no root needed)
# --source    the hems source tree or a wheel to install (default: this script's repository)
# --config    a config to install as /etc/hems/hems.yaml when none is there yet
#             (default: configs/gateway.yaml from the source tree: a meter to edit)
# --no-start  install and enable, but do not start now
set -eu

# The locations can be moved for testing only; the unit file names the defaults.
PREFIX=${HEMS_PREFIX:-/opt/hems}
ETC=${HEMS_ETC:-/etc/hems}
UNIT_DIR=${HEMS_UNIT_DIR:-/etc/systemd/system}
USER_NAME=hems
PYTHON=${PYTHON:-python3}

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
config=""
dry_run=0
start=1

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --source) source_dir=$2; shift ;;
        --config) config=$2; shift ;;
        --no-start) start=0 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$config" ] || config="$source_dir/configs/gateway.yaml"

# Print each step; run it unless --dry-run.
step() {
    echo "+ $*"
    if [ "$dry_run" -eq 0 ]; then "$@"; fi
}

if [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (or with --dry-run to see the steps)" >&2
    exit 1
fi

# 1. Groups and the system user. gpio exists on Raspberry Pi OS; elsewhere it is created so
#    that a udev rule can hand /dev/gpiochip* to it.
for group in gpio dialout; do
    if ! getent group "$group" >/dev/null; then
        step groupadd --system "$group"
    fi
done
if ! getent passwd "$USER_NAME" >/dev/null; then
    step useradd --system --user-group --home-dir /var/lib/hems --no-create-home \
        --shell /usr/sbin/nologin --comment "hems energy agent" "$USER_NAME"
fi
step usermod --append --groups gpio,dialout "$USER_NAME"

# 2. Configuration: owned by root, readable by the service's group only; never overwritten.
step install -d -o root -g "$USER_NAME" -m 0750 "$ETC"
if [ ! -e "$ETC/hems.yaml" ]; then
    step install -o root -g "$USER_NAME" -m 0640 "$config" "$ETC/hems.yaml"
else
    echo "# $ETC/hems.yaml exists: kept"
fi

# 3. The venv under /opt, owned by root (the service cannot modify its own code). The source
#    tree's pyproject.toml is the agent alone: the test rig (hil/, hems[hil]) is not installed.
if [ ! -x "$PREFIX/venv/bin/python" ]; then
    step install -d -o root -g root -m 0755 "$PREFIX"
    step "$PYTHON" -m venv "$PREFIX/venv"
fi
step "$PREFIX/venv/bin/pip" install --quiet --upgrade "$source_dir"
step install -d -o root -g root -m 0755 "$PREFIX/share/doc/hems"
step install -o root -g root -m 0644 "$here/README.md" "$PREFIX/share/doc/hems/systemd-README.md"

# 4. Check the config as the service will read it, before the unit is started.
step "$PREFIX/venv/bin/hems" check-config "$ETC/hems.yaml"

# 5. The unit.
step install -o root -g root -m 0644 "$here/hems.service" "$UNIT_DIR/hems.service"
step systemctl daemon-reload
if [ "$start" -eq 1 ]; then
    step systemctl enable --now hems.service
else
    step systemctl enable hems.service
fi
echo "# done: journalctl -u hems -f to follow the log"
