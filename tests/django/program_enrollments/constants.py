"""Status and role values of Open edX's program_enrollments app (constants.py)."""

PROGRAM_ENROLLMENT_STATUSES = ("enrolled", "pending", "suspended", "canceled", "ended")
PROGRAM_COURSE_ENROLLMENT_STATUSES = ("active", "inactive")
PROGRAM_COURSE_ENROLLMENT_ROLES = ("staff",)


def model_choices(values):
    return [(v, v) for v in values]
