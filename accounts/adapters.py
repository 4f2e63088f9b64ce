from allauth.account.adapter import DefaultAccountAdapter

from accounts.auth import client_ip


class AccountAdapter(DefaultAccountAdapter):
    """allauth's rate limits see the same client address as the API throttle and django-axes
    (REMOTE_ADDR unless TRUSTED_PROXY_COUNT says otherwise)."""

    def get_client_ip(self, request) -> str:
        return client_ip(request) or super().get_client_ip(request)
