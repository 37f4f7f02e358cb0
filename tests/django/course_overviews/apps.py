from django.apps import AppConfig


class CourseOverviewsConfig(AppConfig):
    name = "course_overviews"
    label = "course_overviews"
