#!/usr/bin/env python3
"""Self-test of readback.py: raw-SQL rows as a non-Django tool writes them.

    DJANGO_DB_URL=... /tmp/django-venv/bin/python tests/django/selftest.py

The database must be freshly migrated (migrate.sh) and empty. The script inserts rows
with literal SQL (no ORM, no driver-side adaptation), checks that readback.py passes,
then plants one bad value at a time and checks that readback.py fails with the
expected message (each bad value is removed again afterwards). It leaves the good
rows in the database. Exit status 0 when every expectation holds.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
if not os.environ.get("DJANGO_DB_URL"):
    sys.exit("selftest.py: DJANGO_DB_URL is not set")

import django  # noqa: E402
import django.db  # noqa: E402

django.setup()
from django.db import connection  # noqa: E402

VENDOR = connection.vendor  # sqlite, postgresql, mysql

P1 = "9b7d3d1c5a4e4d0f8a1b2c3d4e5f6a7b"  # program uuid 1 (hex)
P2 = "0f1e2d3c4b5a49788796a5b4c3d2e1f0"  # program uuid 2
C1 = "11111111222233334444555555555555"  # curriculum
H1 = "aaaaaaaabbbbccccddddeeeeeeeeeeee"  # CE history ids
H2 = "aaaaaaaabbbbccccddddffffffffffff"
COURSE1 = "course-v1:edX+Cats+Dogs"
COURSE2 = "course-v1:edX+Birds+2026"


def hyphenate(h):
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def column_type(table, column):
    if VENDOR != "mysql":
        return None
    with connection.cursor() as cur:
        cur.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = %s AND column_name = %s",
            [table, column],
        )
        return cur.fetchone()[0].lower()


NATIVE_UUID = VENDOR == "postgresql" or column_type(
    "program_enrollments_programenrollment", "program_uuid"
) == "uuid"
NATIVE_UUID_HISTORY_ID = VENDOR == "postgresql" or column_type(
    "student_courseenrollment_history", "history_id"
) == "uuid"


def ts(s):
    """A UTC datetime literal as a non-Django tool writes it ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    return f"'{s}+00'" if VENDOR == "postgresql" else f"'{s}'"


def b(v):
    if VENDOR == "postgresql":
        return "true" if v else "false"
    return "1" if v else "0"


def u(h, native=None):
    native = NATIVE_UUID if native is None else native
    return f"'{hyphenate(h)}'" if native else f"'{h}'"


def q(name):
    return connection.ops.quote_name(name)


def insert(table, row):
    cols = ", ".join(q(c) for c in row)
    vals = ", ".join(str(v) for v in row.values())
    execute(f"INSERT INTO {q(table)} ({cols}) VALUES ({vals})")


def execute(sql):
    with connection.cursor() as cur:
        cur.execute(sql)


def course_overview(cid, name):
    org = cid.split(":")[1].split("+")[0]
    number = cid.split("+")[1]
    t = ts("2026-01-01 00:00:00.000000")
    return {
        "created": t,
        "modified": t,
        "version": 19,
        "id": f"'{cid}'",
        "_location": f"'block-v1:{cid.split(':')[1]}+type@course+block@course'",
        "org": f"'{org}'",
        "display_name": f"'{name}'",
        "display_number_with_default": f"'{number}'",
        "display_org_with_default": f"'{org}'",
        "banner_image_url": "''",
        "course_image_url": "''",
        "certificates_show_before_end": b(False),
        "cert_html_view_enabled": b(False),
        "has_any_active_web_certificate": b(False),
        "cert_name_short": "''",
        "cert_name_long": "''",
        "mobile_available": b(False),
        "visible_to_staff_only": b(False),
        "_pre_requisite_courses_json": "'[]'",
        "invitation_only": b(False),
        "self_paced": b(False),
        "eligible_for_financial_aid": b(True),
        "enable_proctored_exams": b(False),
        "allow_proctoring_opt_out": b(False),
        "entrance_exam_enabled": b(False),
        "entrance_exam_id": "''",
        "entrance_exam_minimum_score_pct": "0.65",
        "force_on_flexible_peer_openassessments": b(False),
    }


def insert_good_rows():
    t0 = ts("2026-01-02 03:04:05.123456")
    t1 = ts("2026-01-02 03:04:06.000000")
    for i, name in ((1, "alice"), (2, "bob"), (3, "carol")):
        insert("auth_user", {
            "id": i, "password": "'!'", "last_login": "NULL", "is_superuser": b(False),
            "username": f"'{name}'", "first_name": "''", "last_name": "''",
            "email": f"'{name}@example.com'", "is_staff": b(False), "is_active": b(True),
            "date_joined": t0,
        })
    insert("course_overviews_courseoverview", course_overview(COURSE1, "Cats and Dogs"))
    insert("course_overviews_courseoverview", course_overview(COURSE2, "Birds"))
    insert("course_modes_coursemode", {
        "id": 1, "course_id": f"'{COURSE1}'", "mode_slug": "'masters'",
        "mode_display_name": "'Master''s'", "min_price": 0, "currency": "'usd'",
        "expiration_datetime": "NULL", "expiration_datetime_is_explicit": b(False),
        "suggested_prices": "''",
    })
    # a waiting PE, a linked PE with one PCE linked to a CE, a PE of another program
    for pe_id, user, key, prog in ((1, "NULL", "ext-1", P1), (2, 1, "ext-2", P1), (3, "NULL", "ext-1", P2)):
        row = {
            "id": pe_id, "created": t0, "modified": t1, "user_id": user,
            "external_user_key": f"'{key}'", "program_uuid": u(prog),
            "curriculum_uuid": u(C1), "status": "'enrolled'",
        }
        insert("program_enrollments_programenrollment", row)
        hist = dict(row, history_id=pe_id, history_date=t1, history_change_reason="NULL",
                    history_type="'+'", history_user_id="NULL")
        insert("program_enrollments_historicalprogramenrollment", hist)
    for ce_id, user, course, hid in ((1, 1, COURSE1, H1), (2, 2, COURSE2, H2)):
        row = {"id": ce_id, "user_id": user, "course_id": f"'{course}'", "created": t1,
               "is_active": b(True), "mode": "'masters'"}
        insert("student_courseenrollment", row)
        hist = dict(row, history_id=u(hid, NATIVE_UUID_HISTORY_ID), history_date=t1,
                    history_change_reason="NULL", history_type="'+'", history_user_id="NULL")
        insert("student_courseenrollment_history", hist)
    for pce_id, pe_id, ce_id, course in ((1, 1, "NULL", COURSE1), (2, 2, 1, COURSE1)):
        row = {"id": pce_id, "created": t0, "modified": t1, "program_enrollment_id": pe_id,
               "course_enrollment_id": ce_id, "course_key": f"'{course}'", "status": "'active'"}
        insert("program_enrollments_programcourseenrollment", row)
        hist = dict(row, history_id=pce_id, history_date=t1, history_change_reason="NULL",
                    history_type="'+'", history_user_id="NULL")
        insert("program_enrollments_historicalprogramcourseenrollment", hist)
    insert("program_enrollments_courseaccessroleassignment", {
        "id": 1, "created": t0, "modified": t0, "role": "'staff'", "enrollment_id": 1})
    insert("student_courseenrollmentallowed", {
        "id": 1, "email": "'alice@example.com'", "course_id": f"'{COURSE1}'",
        "auto_enroll": b(False), "user_id": 1, "created": t0})
    insert("student_courseaccessrole", {
        "id": 1, "user_id": 2, "org": "'edX'", "course_id": "''", "role": "'staff'"})


def readback():
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, "readback.py")],
        capture_output=True, text=True, env=os.environ.copy(),
    )
    return proc.returncode, proc.stdout + proc.stderr


results = []


def shorten(out, n=6):
    lines = out.strip().splitlines()
    more = f"\n    ... {len(lines) - n} more lines" if len(lines) > n else ""
    return "\n    ".join(lines[:n]) + more


def expect(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}: {name}" + (f"\n    {detail}" if detail and not ok else ""))


def bad_case(name, plant_sql, undo_sql, must_contain):
    try:
        execute(plant_sql)
    except django.db.DataError as exc:
        # e.g. MariaDB strict mode: 36 characters do not fit char(32)
        expect(f"the database itself rejects {name}", True)
        print(f"    {type(exc).__name__}: {exc}")
        return
    try:
        rc, out = readback()
    finally:
        execute(undo_sql)
    ok = rc != 0 and all(m in out for m in must_contain)
    expect(f"readback rejects {name}", ok, shorten(out))
    first = next((ln for ln in out.splitlines() if "FAILED" in ln), "")
    if first:
        print(f"    {first}")


def main():
    print(f"selftest on {VENDOR} (Django {django.get_version()}), native uuid columns: "
          f"program_uuid={NATIVE_UUID}, history_id={NATIVE_UUID_HISTORY_ID}")
    insert_good_rows()
    rc, out = readback()
    expect("readback accepts rows written like a non-Django tool", rc == 0, shorten(out))
    print("    " + out.strip().splitlines()[-1] if out.strip() else "")

    pe = "program_enrollments_programenrollment"
    if VENDOR == "sqlite":
        # Does Django parse an ISO-8601 'T...Z' datetime on SQLite?
        execute(f"UPDATE {pe} SET modified = '2026-01-01T00:00:00Z' WHERE id = 1")
        from program_enrollments.models import ProgramEnrollment

        try:
            v = ProgramEnrollment.objects.get(id=1).modified
            print(f"    note: Django loads '2026-01-01T00:00:00Z' on SQLite as {v!r} (parses fine)")
            n = ProgramEnrollment.objects.filter(modified__lte="2026-01-01 12:00:00+00:00").count()
            print(f"    note: but filter(modified__lte='2026-01-01 12:00:00Z') finds {n} rows, not 1 "
                  "(SQLite compares the text)")
        except Exception as exc:
            print(f"    note: Django fails on '2026-01-01T00:00:00Z': {type(exc).__name__}: {exc}")
        execute(f"UPDATE {pe} SET modified = '2026-01-02 03:04:06' WHERE id = 1")
        bad_case(
            "SQLite datetime '2026-01-01T00:00:00Z'",
            f"UPDATE {pe} SET modified = '2026-01-01T00:00:00Z' WHERE id = 1",
            f"UPDATE {pe} SET modified = '2026-01-02 03:04:06' WHERE id = 1",
            ["modified stored as '2026-01-01T00:00:00Z'"],
        )
        bad_case(
            "SQLite boolean stored as 'true'",
            "UPDATE student_courseenrollment SET is_active = 'true' WHERE id = 1",
            "UPDATE student_courseenrollment SET is_active = 1 WHERE id = 1",
            ["is_active stored as 'true', expected integer 0 or 1"],
        )
    if not NATIVE_UUID:
        hy = hyphenate(P1)
        bad_case(
            f"hyphenated UUID in char(32) ({hy})",
            f"UPDATE {pe} SET program_uuid = '{hy}' WHERE id = 2",
            f"UPDATE {pe} SET program_uuid = '{P1}' WHERE id = 2",
            ["filter(program_uuid=UUID(", "finds 1 rows, iteration read 2"],
        )
        bad_case(
            "upper-case hex UUID in char(32)",
            f"UPDATE {pe} SET program_uuid = '{P1.upper()}' WHERE id = 2",
            f"UPDATE {pe} SET program_uuid = '{P1}' WHERE id = 2",
            ["expected 32 lowercase hex digits"],
        )
    bad_case(
        "an invalid course key",
        "UPDATE program_enrollments_programcourseenrollment SET course_key = 'not a key' WHERE id = 1",
        f"UPDATE program_enrollments_programcourseenrollment SET course_key = '{COURSE1}' WHERE id = 1",
        ["InvalidKeyError"],
    )
    if VENDOR == "mysql":
        bad_case(
            "MySQL tinyint 2 in a boolean column",
            "UPDATE student_courseenrollment SET is_active = 2 WHERE id = 1",
            "UPDATE student_courseenrollment SET is_active = 1 WHERE id = 1",
            ["is_active=2 is not a boolean"],
        )
    rc, out = readback()
    expect("readback accepts the restored rows", rc == 0, shorten(out))
    print(f"selftest: {sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
