from django.apps import AppConfig


class DjangoCommentCommonConfig(AppConfig):
    name = "django_comment_common"
    label = "django_comment_common"
