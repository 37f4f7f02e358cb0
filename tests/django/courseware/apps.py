from django.apps import AppConfig


class CoursewareConfig(AppConfig):
    name = "courseware"
    label = "courseware"
