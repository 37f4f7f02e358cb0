from django.apps import AppConfig


class ThirdPartyAuthConfig(AppConfig):
    name = "third_party_auth"
    label = "third_party_auth"
