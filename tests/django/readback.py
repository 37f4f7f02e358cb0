#!/usr/bin/env python3
"""Read back, through Django's ORM, every row of Open edX's tables that our tool writes.

Run with DJANGO_DB_URL set (see settings.py), with this project's virtualenv:
    DJANGO_DB_URL=... /tmp/django-venv/bin/python tests/django/readback.py [URL ...]
With URLs, each of those databases (of DJANGO_DB_URL's engine) is read back in turn.

Checks, for every table (live and history):
  * every row loads through the ORM, every concrete field is converted by Django
    (datetimes, UUIDs, booleans, course keys...) and has the Python type Django gives
    that field (a bool for a BooleanField, an aware datetime for a DateTimeField, ...);
  * the raw stored value is in Django's own format where the column is text or loose
    (SQLite datetimes and booleans, char(32) UUIDs): Django parses more than it writes,
    and a value it parses but would not write breaks its lookups and ordering (SQLite
    booleans: Django reads anything but 1 as False, without an error);
  * for every distinct program_uuid / curriculum_uuid, a lookup with a uuid.UUID
    finds exactly the rows iteration found (live and history tables);
  * every student_courseenrollment_history row is found by its UUID history_id;
  * foreign keys hold (connection.check_constraints).
Exits 1 with one line per problem on failure; prints one summary line on success.
"""
import datetime
import decimal
import os
import re
import sys
import uuid
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

if not os.environ.get("DJANGO_DB_URL"):
    sys.exit("readback.py: DJANGO_DB_URL is not set")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from opaque_keys.edx.keys import CourseKey, UsageKey  # noqa: E402

from course_modes.models import CourseMode  # noqa: E402
from course_overviews.models import CourseOverview  # noqa: E402
from program_enrollments.models import (  # noqa: E402
    CourseAccessRoleAssignment,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from student.models import (  # noqa: E402
    CourseAccessRole,
    CourseEnrollment,
    CourseEnrollmentAllowed,
)
from django_comment_common.models import Role  # noqa: E402
from schedules.models import Schedule, ScheduleExperience  # noqa: E402

HistoricalProgramEnrollment = ProgramEnrollment.historical_records.model
HistoricalProgramCourseEnrollment = ProgramCourseEnrollment.historical_records.model
HistoricalCourseEnrollment = CourseEnrollment.history.model
HistoricalCourseOverview = CourseOverview.history.model
HistoricalCourseMode = CourseMode.history.model
RoleUsers = Role.users.through
HistoricalSchedule = Schedule.history.model

MODELS = [
    User,
    CourseOverview,
    HistoricalCourseOverview,
    CourseMode,
    HistoricalCourseMode,
    CourseEnrollment,
    HistoricalCourseEnrollment,
    CourseEnrollmentAllowed,
    CourseAccessRole,
    ProgramEnrollment,
    HistoricalProgramEnrollment,
    ProgramCourseEnrollment,
    HistoricalProgramCourseEnrollment,
    CourseAccessRoleAssignment,
    Role,
    RoleUsers,
    Schedule,
    ScheduleExperience,
    HistoricalSchedule,
]

# Django writes datetimes on SQLite as str(naive UTC datetime): microseconds only when non-zero.
SQLITE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$")
SQLITE_BOOL = re.compile(r"^[01]$")
SQLITE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")

errors = []


def fail(msg):
    errors.append(msg)


def is_key_field(field):
    from opaque_keys.edx.django.models import OpaqueKeyField

    return isinstance(field, OpaqueKeyField)


def expected_type(field):
    """The Python type(s) Django returns for a loaded value of this field (None aside)."""
    internal = field.get_internal_type()
    if isinstance(field, models.ForeignKey):
        return expected_type(field.target_field)
    from opaque_keys.edx.django.models import CourseKeyField, UsageKeyField

    if isinstance(field, CourseKeyField):
        return CourseKey
    if isinstance(field, UsageKeyField):
        return UsageKey
    return {
        "AutoField": int,
        "BigAutoField": int,
        "IntegerField": int,
        "BigIntegerField": int,
        "PositiveIntegerField": int,
        "SmallIntegerField": int,
        "BooleanField": bool,
        "NullBooleanField": bool,
        "CharField": str,
        "TextField": str,
        "EmailField": str,
        "DateTimeField": datetime.datetime,
        "DateField": datetime.date,
        "UUIDField": uuid.UUID,
        "DecimalField": decimal.Decimal,
        "FloatField": float,
    }.get(internal, object)


def load_all(model):
    """Load every row, touch every concrete field, check types. Returns the instances."""
    table = model._meta.db_table
    rows = []
    try:
        for obj in model._default_manager.all().order_by("pk").iterator():
            rows.append(obj)
            for f in model._meta.concrete_fields:
                value = getattr(obj, f.attname)
                if value is None:
                    # An opaque key field loads '' as None (its "Empty"); fine where blank=True.
                    if not f.null and not f.primary_key and not (f.blank and is_key_field(f)):
                        fail(f"{table} pk={obj.pk!r}: NOT NULL column {f.column} loaded as None")
                    continue
                want = expected_type(f)
                if want is bool and not isinstance(value, bool):
                    fail(f"{table} pk={obj.pk!r}: {f.column}={value!r} is not a boolean (0/1)")
                elif want is int and (isinstance(value, bool) or not isinstance(value, int)):
                    fail(f"{table} pk={obj.pk!r}: {f.column}={value!r} is not an integer")
                elif want is datetime.datetime:
                    if not isinstance(value, datetime.datetime):
                        fail(f"{table} pk={obj.pk!r}: {f.column}={value!r} is not a datetime")
                    elif value.tzinfo is None or value.utcoffset() is None:
                        fail(f"{table} pk={obj.pk!r}: {f.column}={value!r} is a naive datetime")
                elif want is datetime.date and (
                    isinstance(value, datetime.datetime) or not isinstance(value, datetime.date)
                ):
                    fail(f"{table} pk={obj.pk!r}: {f.column}={value!r} is not a date")
                elif not isinstance(value, want):
                    fail(f"{table} pk={obj.pk!r}: {f.column}={value!r} is not a {want.__name__}")
    except Exception as exc:  # a value Django cannot convert at all
        fail(f"{table}: loading rows failed after {len(rows)} rows: {type(exc).__name__}: {exc}")
    return rows


def raw_format_checks(model):
    """Stored text must be what Django itself writes (only where the column is text)."""
    vendor = connection.vendor
    table = model._meta.db_table
    qn = connection.ops.quote_name
    for f in model._meta.concrete_fields:
        if isinstance(f, models.UUIDField) or (
            isinstance(f, models.ForeignKey) and isinstance(f.target_field, models.UUIDField)
        ):
            if vendor == "postgresql":
                continue  # native uuid
            if vendor == "mysql" and column_type(table, f.column) == "uuid":
                continue  # MariaDB native uuid (Django 5 / Open edX migration 0012)
            check = (HEX32, "32 lowercase hex digits (Django's UUIDField on char(32))")
        elif vendor == "sqlite" and f.get_internal_type() == "DateTimeField":
            check = (SQLITE_DATETIME, "'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC, as Django writes it)")
        elif vendor == "sqlite" and f.get_internal_type() == "BooleanField":
            # Django's SQLite connection reads any bool value other than 1 as False, silently.
            check = (SQLITE_BOOL, "integer 0 or 1")
        elif vendor == "sqlite" and f.get_internal_type() == "DateField":
            check = (SQLITE_DATE, "'YYYY-MM-DD'")
        else:
            continue
        # CAST: Django's SQLite connection would otherwise parse "datetime" columns itself.
        col = f"CAST({qn(f.column)} AS TEXT)" if vendor == "sqlite" else qn(f.column)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT {qn(model._meta.pk.column)}, {col} FROM {qn(table)} "
                f"WHERE {qn(f.column)} IS NOT NULL"
            )
            for pk, raw in cur.fetchall():
                if isinstance(raw, (bytes, bytearray)):
                    raw = raw.decode("utf-8", "replace")
                if not isinstance(raw, str) or not check[0].match(raw):
                    fail(f"{table} pk={pk!r}: {f.column} stored as {raw!r}, expected {check[1]}")


_column_types = {}


def column_type(table, column):
    key = (table, column)
    if key not in _column_types:
        with connection.cursor() as cur:
            cur.execute(
                # The schema as a bound value, not DATABASE(): MariaDB narrows an
                # information_schema read to one schema only for a constant.
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s AND column_name = %s",
                [connection.settings_dict["NAME"], table, column],
            )
            row = cur.fetchone()
        _column_types[key] = (row[0].lower() if row else None)
    return _column_types[key]


def uuid_lookup_checks(model, rows, field_name):
    """filter(field=<uuid.UUID>) must find the rows that iteration found, per value."""
    table = model._meta.db_table
    by_iteration = Counter(getattr(r, field_name) for r in rows)
    for value, n in sorted(by_iteration.items(), key=lambda kv: str(kv[0])):
        if not isinstance(value, uuid.UUID):
            continue  # already reported by load_all
        found = model._default_manager.filter(**{field_name: value}).count()
        if found != n:
            fail(
                f"{table}: filter({field_name}=UUID('{value}')) finds {found} rows, "
                f"iteration read {n} with that {field_name}"
            )


def foreign_key_checks():
    """Every foreign key of the models points at a row. Django's `check_constraints` does this,
    but on MySQL it finds the keys through information_schema with `DATABASE()`, which MariaDB
    answers by reading every schema on the server: 26 s a database among the tests' hundreds.
    There the declared foreign keys are checked with one anti-join each instead."""
    if connection.vendor != "mysql":
        try:
            with transaction.atomic():
                connection.check_constraints(table_names=[m._meta.db_table for m in MODELS])
        except Exception as exc:
            fail(f"foreign key check failed: {type(exc).__name__}: {exc}")
        return
    qn = connection.ops.quote_name
    checked = set()
    for model in MODELS:
        fields = [f for f in model._meta.local_fields if f.is_relation and f.many_to_one and f.db_constraint]
        m2m = [
            (f.remote_field.through, g)
            for f in model._meta.local_many_to_many
            for g in f.remote_field.through._meta.local_fields
            if g.is_relation and g.many_to_one
        ]
        for owner, f in [(model, f) for f in fields] + m2m:
            table, target = owner._meta.db_table, f.related_model._meta.db_table
            if (table, f.column) in checked:
                continue  # a many-to-many table that MODELS also lists
            checked.add((table, f.column))
            target_column = f.target_field.column
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT t.{qn(owner._meta.pk.column)}, t.{qn(f.column)} FROM {qn(table)} t "
                    f"LEFT JOIN {qn(target)} r ON r.{qn(target_column)} = t.{qn(f.column)} "
                    f"WHERE t.{qn(f.column)} IS NOT NULL AND r.{qn(target_column)} IS NULL"
                )
                for pk, bad in cur.fetchall():
                    fail(f"{table} pk={pk!r}: {f.column}={bad!r} has no row in {target}.{target_column}")


def main():
    counts = {}
    loaded = {}
    for model in MODELS:
        rows = load_all(model)
        loaded[model] = rows
        counts[model._meta.db_table] = len(rows)
        raw_format_checks(model)

    for model in (ProgramEnrollment, HistoricalProgramEnrollment):
        for field_name in ("program_uuid", "curriculum_uuid"):
            uuid_lookup_checks(model, loaded[model], field_name)
    # Every program uuid of the live table must also be found in the history table.
    for value in sorted({r.program_uuid for r in loaded[ProgramEnrollment]}, key=str):
        n_iter = sum(1 for r in loaded[HistoricalProgramEnrollment] if r.program_uuid == value)
        n_lookup = HistoricalProgramEnrollment.objects.filter(program_uuid=value).count()
        if n_iter != n_lookup:
            fail(
                f"{HistoricalProgramEnrollment._meta.db_table}: program_uuid {value}: "
                f"lookup finds {n_lookup}, iteration {n_iter}"
            )

    for h in loaded[HistoricalCourseEnrollment]:
        if isinstance(h.history_id, uuid.UUID):
            n = HistoricalCourseEnrollment.objects.filter(history_id=h.history_id).count()
            if n != 1:
                fail(
                    f"{HistoricalCourseEnrollment._meta.db_table}: "
                    f"filter(history_id=UUID('{h.history_id}')) finds {n} rows, expected 1"
                )

    foreign_key_checks()

    if errors:
        for e in errors:
            print(f"readback FAILED: {e}", file=sys.stderr)
        print(f"readback FAILED: {len(errors)} problem(s) on {connection.vendor}", file=sys.stderr)
        return 1
    summary = ", ".join(f"{t}={n}" for t, n in counts.items())
    print(f"readback OK ({connection.vendor}, Django {django.get_version()}): rows read: {summary}")
    return 0


def main_many(urls):
    """Reads back each database of `urls` (all of DJANGO_DB_URL's engine) in one process."""
    import settings as project_settings

    status = 0
    for url in urls:
        wanted = project_settings._database_from_url(url)
        if wanted["ENGINE"] != connection.settings_dict["ENGINE"]:
            print(f"readback FAILED: {url} is not a {connection.vendor} database", file=sys.stderr)
            status = 1
            continue
        connection.close()
        connection.settings_dict.update(wanted)
        errors.clear()
        print(f"{wanted['NAME']}: ", end="")
        status |= main()
    return status


if __name__ == "__main__":
    sys.exit(main_many(sys.argv[1:]) if len(sys.argv) > 1 else main())
