from django.apps import AppConfig


class ProgramEnrollmentsConfig(AppConfig):
    name = "program_enrollments"
    label = "program_enrollments"
