#!/usr/bin/env bash
# Create (or reuse) the virtualenv of the Django test project and install its pinned
# requirements. Idempotent: skipped when the venv already holds exactly these requirements.
#
#   tests/django/setup.sh [VENV] [REQUIREMENTS]
#     VENV          default /tmp/django-venv
#     REQUIREMENTS  default tests/django/requirements.txt (Django 4.2);
#                   tests/django/requirements-django52.txt for Open edX Ulmo/master (Django 5.2)
#
# Needs python3 (3.11) with venv, and for mysqlclient the Debian packages
# libmariadb-dev pkg-config build-essential (python3-dev python3-venv with Debian's python3).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${1:-/tmp/django-venv}
REQ=${2:-$HERE/requirements.txt}
PYTHON=${PYTHON:-python3}

[[ -f $REQ ]] || { echo "setup.sh: no requirements file $REQ" >&2; exit 2; }
HASH=$( { "$PYTHON" -c 'import sys; print(sys.version)'; cat "$REQ"; } | sha256sum | cut -d' ' -f1)
STAMP=$VENV/.requirements.sha256

if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$HASH" ]]; then
  exit 0
fi
if [[ ! -x $VENV/bin/python ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
echo "$HASH" >"$STAMP"
echo "setup.sh: installed $(basename "$REQ") into $VENV"
