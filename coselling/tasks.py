"""Periodic co-sell jobs; each is safe to run twice (the services claim rows conditionally)."""

from celery import shared_task


@shared_task(name="coselling.expire_and_remind")
def expire_and_remind() -> dict:
    from coselling.services.intros import intros_remind_and_expire
    from coselling.services.registrations import registrations_expire

    out = intros_remind_and_expire()
    out["registrations_expired"] = registrations_expire()
    return out
