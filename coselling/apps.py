from django.apps import AppConfig


class CosellingConfig(AppConfig):
    name = "coselling"
