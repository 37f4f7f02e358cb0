"""The dynamic upgrade deadline configuration, as Open edX declares it
(lms/djangoapps/courseware/models.py, on django-config-models' ConfigurationModel)."""
from django.contrib.auth.models import User
from django.db import models
from opaque_keys.edx.django.models import CourseKeyField


class ConfigurationModel(models.Model):
    """The fields of config_models.models.ConfigurationModel: the current row of a key is its
    latest by change_date."""

    change_date = models.DateTimeField(auto_now_add=True, verbose_name="Change date")
    changed_by = models.ForeignKey(
        User, editable=False, null=True, on_delete=models.PROTECT, verbose_name="Changed by"
    )
    enabled = models.BooleanField(default=False, verbose_name="Enabled")

    class Meta:
        abstract = True
        ordering = ("-change_date",)


class DynamicUpgradeDeadlineConfiguration(ConfigurationModel):
    """
    .. no_pii:
    """

    deadline_days = models.PositiveSmallIntegerField(
        default=21, help_text="Number of days a learner has to upgrade after content is made available"
    )


class CourseDynamicUpgradeDeadlineConfiguration(ConfigurationModel):
    """
    .. no_pii:
    """

    course_id = CourseKeyField(max_length=255, db_index=True)
    deadline_days = models.PositiveSmallIntegerField(
        default=21, help_text="Number of days a learner has to upgrade after content is made available"
    )
    opt_out = models.BooleanField(default=False, help_text="Disable the dynamic upgrade deadline for this course run.")


class OrgDynamicUpgradeDeadlineConfiguration(ConfigurationModel):
    """
    .. no_pii:
    """

    org_id = models.CharField(max_length=255, db_index=True)
    deadline_days = models.PositiveSmallIntegerField(
        default=21, help_text="Number of days a learner has to upgrade after content is made available"
    )
    opt_out = models.BooleanField(default=False, help_text="Disable the dynamic upgrade deadline for this organization.")
