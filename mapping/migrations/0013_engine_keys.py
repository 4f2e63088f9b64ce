"""Engine keys, version 4: names are normalized anew (legal forms inside a name end it, local legal
forms in odd positions, single characters joined: "Z 7" -> "z7", "K und L" -> "kl", a name written
twice once). Every record's stored name_norm is recomputed from its name with the current
normalizer; ENGINE_VERSION 4 (mapping.services.matching) makes each partnership's next run a full
one on the new keys and the new engine state. Reversing leaves the new keys in place (they are
what the current code computes)."""

from django.db import migrations

BATCH = 2000


def renormalize_names(apps, schema_editor):
    from mapping.engine.normalize import normalize_name

    record = apps.get_model("mapping", "AccountRecord")
    normalize = getattr(normalize_name, "__wrapped__", normalize_name)
    batch = []
    for row in record.objects.only("id", "name", "name_norm").order_by("id").iterator(chunk_size=BATCH):
        fresh = normalize(row.name)[:500]
        if fresh != row.name_norm:
            row.name_norm = fresh
            batch.append(row)
        if len(batch) >= BATCH:
            record.objects.bulk_update(batch, ["name_norm"])
            batch = []
    if batch:
        record.objects.bulk_update(batch, ["name_norm"])


class Migration(migrations.Migration):

    dependencies = [
        ("mapping", "0012_run_coverage"),
    ]

    operations = [migrations.RunPython(renormalize_names, migrations.RunPython.noop)]
