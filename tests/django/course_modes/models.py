"""CourseMode as Open edX declares it (common/djangoapps/course_modes/models.py;
state after course_modes migration 0016)."""
from django.core.validators import validate_comma_separated_integer_list
from django.db import models
from simple_history.models import HistoricalRecords

from course_overviews.models import CourseOverview


class CourseMode(models.Model):
    """
    .. no_pii:
    """

    # The course this mode is attached to: column course_id, varchar(255), indexed,
    # with no database foreign key (db_constraint=False).
    course = models.ForeignKey(
        CourseOverview,
        db_constraint=False,
        db_index=True,
        related_name="modes",
        on_delete=models.DO_NOTHING,
    )
    mode_slug = models.CharField(max_length=100, verbose_name="Mode")
    mode_display_name = models.CharField(max_length=255, verbose_name="Display Name")
    min_price = models.IntegerField(default=0, verbose_name="Price")
    currency = models.CharField(default="usd", max_length=8)
    _expiration_datetime = models.DateTimeField(
        default=None,
        null=True,
        blank=True,
        verbose_name="Upgrade Deadline",
        db_column="expiration_datetime",
    )
    expiration_datetime_is_explicit = models.BooleanField(default=False)
    # DEPRECATED in Open edX
    expiration_date = models.DateField(default=None, null=True, blank=True)
    # DEPRECATED in Open edX
    suggested_prices = models.CharField(
        max_length=255,
        blank=True,
        default="",
        validators=[validate_comma_separated_integer_list],
    )
    description = models.TextField(null=True, blank=True)
    sku = models.CharField(max_length=255, null=True, blank=True, verbose_name="SKU")
    android_sku = models.CharField(max_length=255, null=True, blank=True, verbose_name="Android SKU")
    ios_sku = models.CharField(max_length=255, null=True, blank=True, verbose_name="iOS SKU")
    bulk_sku = models.CharField(
        max_length=255, null=True, blank=True, default=None, verbose_name="Bulk SKU"
    )

    history = HistoricalRecords()

    class Meta:
        app_label = "course_modes"
        unique_together = ("course", "mode_slug", "currency")

    def __str__(self):
        return f"{self.course_id} : {self.mode_slug}"
