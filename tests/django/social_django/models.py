"""The SSO record table the support tool's inspector reads, as social-auth-app-django 5.4
declares it (social_django/models.py: AbstractUserSocialAuth, UserSocialAuth)."""
from django.conf import settings
from django.db import models


class UserSocialAuth(models.Model):
    """
    .. no_pii:
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="social_auth", on_delete=models.CASCADE)
    provider = models.CharField(max_length=32)
    uid = models.CharField(max_length=255, db_index=True)
    extra_data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "social_django"
        unique_together = ("provider", "uid")
        db_table = "social_auth_usersocialauth"
