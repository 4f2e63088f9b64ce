"""Empty the read cache (mapping.sharing.read_cache), e.g. after restoring a database backup: the restored
read stamps count again from where the backup left them."""

from django.core.management.base import BaseCommand

from mapping.sharing import read_cache


class Command(BaseCommand):
    help = "Empty the read cache of overlap matrices and overlap pages."

    def handle(self, *args, **options):
        read_cache.clear()
        self.stdout.write("Read cache emptied.")
