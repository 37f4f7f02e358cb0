"""Program enrollment models as Open edX declares them
(lms/djangoapps/program_enrollments/models.py)."""
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models
from model_utils.models import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField
from simple_history.models import HistoricalRecords

from student.models import CourseEnrollment

from .constants import (
    PROGRAM_COURSE_ENROLLMENT_ROLES,
    PROGRAM_COURSE_ENROLLMENT_STATUSES,
    PROGRAM_ENROLLMENT_STATUSES,
    model_choices,
)


class ProgramEnrollment(TimeStampedModel):
    """
    .. pii: PII is found in the external key for a program enrollment
    .. pii_types: other
    .. pii_retirement: local_api
    """

    STATUS_CHOICES = model_choices(PROGRAM_ENROLLMENT_STATUSES)

    class Meta:
        app_label = "program_enrollments"

        # A student enrolled in a given (program, curriculum) should always
        # have a non-null ``user`` or ``external_user_key`` field (or both).
        unique_together = (
            ("user", "program_uuid", "curriculum_uuid"),
            ("external_user_key", "program_uuid", "curriculum_uuid"),
        )

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE)
    external_user_key = models.CharField(db_index=True, max_length=255, null=True)
    program_uuid = models.UUIDField(db_index=True, null=False)
    curriculum_uuid = models.UUIDField(db_index=True, null=False)
    status = models.CharField(max_length=9, choices=STATUS_CHOICES)
    historical_records = HistoricalRecords()

    def clean(self):
        if not (self.user or self.external_user_key):
            raise ValidationError("One of user or external_user_key must not be null.")

    def __str__(self):
        return f"[ProgramEnrollment id={self.id}]"


class ProgramCourseEnrollment(TimeStampedModel):
    """
    .. no_pii:
    """

    STATUS_CHOICES = model_choices(PROGRAM_COURSE_ENROLLMENT_STATUSES)

    class Meta:
        app_label = "program_enrollments"

        # For each program enrollment, there may be only one
        # waiting program-course enrollment per course key.
        unique_together = (("program_enrollment", "course_key"),)

    program_enrollment = models.ForeignKey(
        ProgramEnrollment,
        on_delete=models.CASCADE,
        related_name="program_course_enrollments",
    )
    course_enrollment = models.ForeignKey(
        CourseEnrollment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    course_key = CourseKeyField(max_length=255)
    status = models.CharField(max_length=9, choices=STATUS_CHOICES)
    historical_records = HistoricalRecords()

    def __str__(self):
        return f"[ProgramCourseEnrollment id={self.id}]"


class CourseAccessRoleAssignment(TimeStampedModel):
    """
    A role to assign to the eventual user of a pending enrollment.

    .. no_pii:
    """

    class Meta:
        app_label = "program_enrollments"
        unique_together = ("role", "enrollment")

    role = models.CharField(max_length=64, choices=model_choices(PROGRAM_COURSE_ENROLLMENT_ROLES))
    enrollment = models.ForeignKey(ProgramCourseEnrollment, on_delete=models.CASCADE)

    def __str__(self):
        return f"[CourseAccessRoleAssignment id={self.id}]"
