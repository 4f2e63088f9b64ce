from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "prm.common"
    label = "common"
