"""CourseOverview as Open edX declares it
(openedx/core/djangoapps/content/course_overviews/models.py, VERSION = 19).

Only the model's fields matter here: they define the DDL. Open edX's methods are left out.
Note: none of Django's defaults below is a database default. An inserting tool must
give a value for every NOT NULL column (see README.md).
"""
from django.db import models
from model_utils.models import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField, UsageKeyField
from simple_history.models import HistoricalRecords


class CourseOverview(TimeStampedModel):
    """
    .. no_pii:
    """

    class Meta:
        app_label = "course_overviews"

    # Cache entry versioning.
    version = models.IntegerField()

    # Course identification
    id = CourseKeyField(db_index=True, primary_key=True, max_length=255)
    _location = UsageKeyField(max_length=255)
    org = models.TextField(max_length=255, default="outdated_entry")
    display_name = models.TextField(null=True)
    display_number_with_default = models.TextField()
    display_org_with_default = models.TextField()

    start = models.DateTimeField(null=True)
    end = models.DateTimeField(null=True)

    # Deprecated in Open edX, still present.
    start_date = models.DateTimeField(null=True)
    end_date = models.DateTimeField(null=True)

    advertised_start = models.TextField(null=True)
    announcement = models.DateTimeField(null=True)

    # URLs
    banner_image_url = models.TextField()
    course_image_url = models.TextField()
    social_sharing_url = models.TextField(null=True)
    end_of_course_survey_url = models.TextField(null=True)

    # Certification data
    certificates_display_behavior = models.TextField(null=True)
    certificates_show_before_end = models.BooleanField(default=False)
    cert_html_view_enabled = models.BooleanField(default=False)
    has_any_active_web_certificate = models.BooleanField(default=False)
    cert_name_short = models.TextField()
    cert_name_long = models.TextField()
    certificate_available_date = models.DateTimeField(default=None, null=True)

    # Grading
    lowest_passing_grade = models.DecimalField(max_digits=5, decimal_places=2, null=True)

    # Access parameters
    days_early_for_beta = models.FloatField(null=True)
    mobile_available = models.BooleanField(default=False)
    visible_to_staff_only = models.BooleanField(default=False)
    _pre_requisite_courses_json = models.TextField()  # JSON list of CourseKey strings

    # Enrollment details
    enrollment_start = models.DateTimeField(null=True)
    enrollment_end = models.DateTimeField(null=True)
    enrollment_domain = models.TextField(null=True)
    invitation_only = models.BooleanField(default=False)
    max_student_enrollments_allowed = models.IntegerField(null=True)

    # Catalog information
    catalog_visibility = models.TextField(null=True)
    short_description = models.TextField(null=True)
    course_video_url = models.TextField(null=True)
    effort = models.TextField(null=True)
    self_paced = models.BooleanField(default=False)
    marketing_url = models.TextField(null=True)
    eligible_for_financial_aid = models.BooleanField(default=True)

    # Course highlight info
    has_highlights = models.BooleanField(null=True, default=None)

    # Proctoring
    enable_proctored_exams = models.BooleanField(default=False)
    proctoring_provider = models.TextField(null=True)
    proctoring_escalation_email = models.TextField(null=True)
    allow_proctoring_opt_out = models.BooleanField(default=False)

    # Entrance Exam information
    entrance_exam_enabled = models.BooleanField(default=False)
    entrance_exam_id = models.CharField(max_length=255, blank=True)
    entrance_exam_minimum_score_pct = models.FloatField(default=0.65)

    # Open Response Assessment configuration
    force_on_flexible_peer_openassessments = models.BooleanField(default=False)

    external_id = models.CharField(max_length=128, null=True, blank=True)

    language = models.TextField(null=True)

    history = HistoricalRecords()

    def __str__(self):
        return str(self.id)
