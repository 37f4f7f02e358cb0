"""The student tables our tool touches, as Open edX declares them
(common/djangoapps/student/models/course_enrollment.py and models/student.py)."""
import uuid

from django.contrib.auth.models import User
from django.db import models
from django.db.models import Index
from opaque_keys.edx.django.models import CourseKeyField
from simple_history.models import HistoricalRecords

from course_overviews.models import CourseOverview


class CourseEnrollment(models.Model):
    """
    .. no_pii:
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE)

    # Column course_id, varchar(255), indexed, no database foreign key.
    course = models.ForeignKey(
        CourseOverview,
        db_constraint=False,
        on_delete=models.DO_NOTHING,
    )

    created = models.DateTimeField(auto_now_add=True, null=True, db_index=True)

    # If is_active is False, then the student is not considered to be enrolled.
    is_active = models.BooleanField(default=True)

    # Open edX: default=CourseMode.get_default_mode_slug, which is "audit".
    mode = models.CharField(default="audit", max_length=100)

    # An audit row is created for every change to a CourseEnrollment, in the table
    # 'student_courseenrollment_history', with a UUID history_id.
    history = HistoricalRecords(
        history_id_field=models.UUIDField(default=uuid.uuid4),
        table_name="student_courseenrollment_history",
    )

    class Meta:
        app_label = "student"
        unique_together = (("user", "course"),)
        indexes = [Index(fields=["user", "-created"])]
        ordering = ("user", "course")

    def __str__(self):
        return f"[CourseEnrollment] {self.user_id}: {self.course_id}; active: ({self.is_active})"


class CourseEnrollmentAllowed(models.Model):
    """
    Users (by email) allowed to enroll in a course. Open edX also mixes in
    DeletableByUserValue, which adds no field.

    .. no_pii:
    """

    email = models.CharField(max_length=255, db_index=True)
    course_id = CourseKeyField(max_length=255, db_index=True)
    auto_enroll = models.BooleanField(default=0)
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        help_text="First user which enrolled in the specified course through the specified e-mail. "
        "Once set, it won't change.",
        on_delete=models.CASCADE,
    )

    created = models.DateTimeField(auto_now_add=True, null=True, db_index=True)

    class Meta:
        app_label = "student"
        unique_together = (("email", "course_id"),)

    def __str__(self):
        return f"[CourseEnrollmentAllowed] {self.email}: {self.course_id} ({self.created})"


class CourseAccessRole(models.Model):
    """
    Maps users to org, courses, and roles.

    .. no_pii:
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE)
    # blank org is for global group based roles such as course creator
    org = models.CharField(max_length=64, db_index=True, blank=True)
    # blank course_id implies org wide role
    course_id = CourseKeyField(max_length=255, db_index=True, blank=True)
    role = models.CharField(max_length=64, db_index=True)

    class Meta:
        app_label = "student"
        unique_together = ("user", "org", "course_id", "role")

    def __str__(self):
        return f"[CourseAccessRole] user: {self.user_id}   role: {self.role}   org: {self.org}   course: {self.course_id}"
