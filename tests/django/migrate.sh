#!/usr/bin/env bash
# Create Open edX's tables in $DJANGO_DB_URL with Django's own `migrate`.
#
#   DJANGO_DB_URL=sqlite:///tmp/x.sqlite3 tests/django/migrate.sh [VENV]
#     VENV default /tmp/django-venv (made by setup.sh; run setup.sh first)
# Extra arguments after VENV are passed to `manage.py migrate`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${1:-/tmp/django-venv}
shift || true
: "${DJANGO_DB_URL:?migrate.sh: set DJANGO_DB_URL}"
[[ -x $VENV/bin/python ]] || { echo "migrate.sh: no virtualenv at $VENV (run tests/django/setup.sh)" >&2; exit 2; }
exec "$VENV/bin/python" "$HERE/manage.py" migrate --no-input -v 0 "$@"
