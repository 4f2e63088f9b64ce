"""Records without a website took their stem from their owner's e-mail domain: the list owner's own
rep, not the account. Clear those stems and the e-mail domains (see mapping.normalizing); the
engine version moves to 3, so every partnership's next run is a full one on the corrected keys."""

from django.db import migrations

FORWARD = [
    "UPDATE mapping_accountrecord SET stem = '' WHERE domain_norm = '' AND email_domain_norm <> ''",
    "UPDATE mapping_accountrecord SET email_domain_norm = '' WHERE email_domain_norm <> ''",
]


class Migration(migrations.Migration):

    dependencies = [
        ("mapping", "0006_tally_private"),
    ]

    operations = [migrations.RunSQL(sql, migrations.RunSQL.noop) for sql in FORWARD]
