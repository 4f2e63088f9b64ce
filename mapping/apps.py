from django.apps import AppConfig


class MappingConfig(AppConfig):
    name = "mapping"
    verbose_name = "Account mapping"
    default_auto_field = "django.db.models.BigAutoField"

    def extend_demo(self, *, orgs, stdout):
        from mapping.demo import extend_demo

        extend_demo(orgs=orgs, stdout=stdout)
