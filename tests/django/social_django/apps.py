from django.apps import AppConfig


class SocialDjangoConfig(AppConfig):
    # As social-auth-app-django 5.4 (its ids are BigAutoField since its migration 0011).
    name = "social_django"
    label = "social_django"
    default_auto_field = "django.db.models.BigAutoField"
