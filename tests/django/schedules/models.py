"""The schedule tables, as Open edX declares them
(openedx/core/djangoapps/schedules/models.py: Schedule with its history, ScheduleExperience)."""
from django.db import models
from model_utils import Choices
from model_utils.models import TimeStampedModel
from simple_history.models import HistoricalRecords


class Schedule(TimeStampedModel):
    """
    .. no_pii:
    """

    enrollment = models.OneToOneField("student.CourseEnrollment", null=False, on_delete=models.CASCADE)
    # Deprecated in Open edX (use the enrollment's is_active), still written: default True.
    active = models.BooleanField(default=True, help_text="Indicates if this schedule is actively used")
    start_date = models.DateTimeField(
        db_index=True, help_text="Date this schedule went into effect", null=True, default=None
    )
    upgrade_deadline = models.DateTimeField(
        blank=True, db_index=True, null=True, help_text="Deadline by which the learner must upgrade to a verified seat"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "Schedule"
        verbose_name_plural = "Schedules"


class ScheduleExperience(models.Model):
    """
    .. no_pii:
    """

    EXPERIENCES = Choices(
        (0, "default", "Recurring Nudge and Upgrade Reminder"),
        (1, "course_updates", "Course Updates"),
    )

    schedule = models.OneToOneField(Schedule, related_name="experience", on_delete=models.CASCADE)
    experience_type = models.PositiveSmallIntegerField(choices=EXPERIENCES, default=EXPERIENCES.default)
