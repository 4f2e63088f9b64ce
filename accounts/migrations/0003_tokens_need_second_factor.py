"""API tokens were issued for the password alone, also to users with two-factor authentication.
Those tokens did not prove the second factor: they go, and their users request new ones with a code.
(Tokens of admins without TOTP need no migration: accounts.auth refuses them on every request.)"""

from django.db import migrations


def drop_tokens_of_users_with_mfa(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    Authenticator = apps.get_model("mfa", "Authenticator")
    Token.objects.filter(user_id__in=Authenticator.objects.values("user_id")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_tier_history"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(drop_tokens_of_users_with_mfa, migrations.RunPython.noop)]
