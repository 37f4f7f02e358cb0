from django.apps import AppConfig


class StudentConfig(AppConfig):
    name = "student"
    label = "student"
