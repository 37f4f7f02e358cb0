"""The organisation table, as edx-organizations declares it (organizations/models.py)."""
from django.db import models
from model_utils.models import TimeStampedModel
from simple_history.models import HistoricalRecords


class Organization(TimeStampedModel):
    """
    .. no_pii:
    """

    name = models.CharField(max_length=255, db_index=True)
    short_name = models.CharField(max_length=255, unique=True, verbose_name="Short Name")
    description = models.TextField(null=True, blank=True)
    # An ImageField upstream; the same varchar(255) column. A FileField here, so that the test
    # project does not need Pillow.
    logo = models.FileField(upload_to="organization_logos", null=True, blank=True, max_length=255)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        app_label = "organizations"
