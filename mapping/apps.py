from django.apps import AppConfig


class MappingConfig(AppConfig):
    name = "mapping"
    verbose_name = "Account mapping"
    default_auto_field = "django.db.models.BigAutoField"
