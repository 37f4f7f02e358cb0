"""The history of SSO records, as lms/djangoapps/support/models.py registers it:
`simple_history.register(UserSocialAuth, app=__package__)` gives support_historicalusersocialauth."""
from simple_history import register
from social_django.models import UserSocialAuth

register(UserSocialAuth, app=__package__)
