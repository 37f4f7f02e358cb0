"""The discussion role tables, as Open edX declares them
(openedx/core/djangoapps/django_comment_common/models.py: Role, Permission)."""
from django.contrib.auth.models import User
from django.db import models
from opaque_keys.edx.django.models import CourseKeyField


class Role(models.Model):
    """
    .. no_pii:
    """

    name = models.CharField(max_length=30, null=False, blank=False)
    # Table django_comment_client_role_users (role_id, user_id), unique together.
    users = models.ManyToManyField(User, related_name="roles")
    course_id = CourseKeyField(max_length=255, blank=True, db_index=True)

    class Meta:
        # The table first created by lms.djangoapps.discussion.django_comment_client.
        db_table = "django_comment_client_role"


class Permission(models.Model):
    """
    .. no_pii:
    """

    name = models.CharField(max_length=30, null=False, blank=False, primary_key=True)
    roles = models.ManyToManyField(Role, related_name="permissions")

    class Meta:
        db_table = "django_comment_client_permission"
