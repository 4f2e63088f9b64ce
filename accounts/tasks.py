from celery import shared_task

from accounts.services.invitations import invitations_expire


@shared_task(name="accounts.tasks.expire_invitations")
def expire_invitations() -> int:
    return invitations_expire()
