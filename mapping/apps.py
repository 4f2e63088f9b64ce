from django.apps import AppConfig


class MappingConfig(AppConfig):
    name = "mapping"
    verbose_name = "Account mapping"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The layers run one way (engine <- lists <- matching <- sharing); where a lower one must
        # reach a higher one, the higher one is handed down here (ARCHITECTURE.md).
        from mapping.lists.signals import list_changed
        from mapping.matching import gates, receivers
        from mapping.sharing.selectors.visibility import partner_record_visible

        list_changed.connect(receivers.list_changed, dispatch_uid="mapping.matching.list_changed")
        gates.install_partner_record_visible(partner_record_visible)

    def extend_demo(self, *, orgs, stdout):
        from mapping.demo import extend_demo

        extend_demo(orgs=orgs, stdout=stdout)
