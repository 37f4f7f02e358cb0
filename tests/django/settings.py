"""Minimal Django settings: Open edX's tables, nothing else.

The database comes from DJANGO_DB_URL:
    sqlite:///abs/path.sqlite3
    postgres://user:pass@host:port/dbname     (also postgresql://)
    mysql://user:pass@host:port/dbname        (also mariadb://)
A query string, if any, is ignored. Without DJANGO_DB_URL an in-memory SQLite
database is used (enough for makemigrations / check; migrate.sh and readback.py
refuse to run without it).
"""
import os
from urllib.parse import unquote, urlsplit

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "not-a-secret-test-only"
DEBUG = False
ALLOWED_HOSTS = []

# As Open edX (openedx/envs/common.py, lms/envs/common.py).
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Open edX sets this, so its history tables have no index on history_date.
SIMPLE_HISTORY_DATE_INDEX = False

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "simple_history",
    "course_overviews",
    "course_modes",
    "student",
    "program_enrollments",
    "django_comment_common",
    "schedules",
    "courseware",
    # What the support tool's inspector reads: SSO records, their history, SAML providers.
    "django.contrib.sites",
    "organizations",
    "social_django",
    "support",
    "third_party_auth",
]
SITE_ID = 1


def _database_from_url(url):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///abs/path -> path "/abs/path"; sqlite://:memory: also accepted
        path = parts.path if parts.netloc in ("", "localhost") else parts.netloc + parts.path
        if path in ("", "/:memory:"):
            path = ":memory:"
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(path)}
    if scheme in ("postgres", "postgresql", "mysql", "mariadb"):
        db = {
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
        if not db["NAME"]:
            raise ValueError(f"DJANGO_DB_URL has no database name: {url!r}")
        if scheme.startswith("postgres"):
            db["ENGINE"] = "django.db.backends.postgresql"
        else:
            db["ENGINE"] = "django.db.backends.mysql"
            db["OPTIONS"] = {"charset": "utf8mb4"}
        return db
    raise ValueError(f"unsupported DJANGO_DB_URL scheme {scheme!r} (sqlite, postgres, mysql)")


DJANGO_DB_URL = os.environ.get("DJANGO_DB_URL", "")
DATABASES = {
    "default": _database_from_url(DJANGO_DB_URL)
    if DJANGO_DB_URL
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
}

LOGGING_CONFIG = None
