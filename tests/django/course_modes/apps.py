from django.apps import AppConfig


class CourseModesConfig(AppConfig):
    name = "course_modes"
    label = "course_modes"
