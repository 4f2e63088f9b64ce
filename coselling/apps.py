from django.apps import AppConfig


class CosellingConfig(AppConfig):
    name = "coselling"

    def extend_demo(self, *, orgs, stdout) -> None:
        from coselling.demo import extend_demo

        extend_demo(orgs=orgs, stdout=stdout)
