"""What the lists tell the layers above them.

`list_changed` is sent after a committed change to an account list (the import services send it
through `transaction.on_commit`, once per change set that is not empty), with `list_id` and
`changeset_id`: `ListChangeSet(changeset_id)` holds the ids of the records that were added, edited
and removed. Matching, which sits above the lists, listens (connected in `MappingConfig.ready`) and
schedules a match run for every active partnership of the list's owner.
"""

from django.dispatch import Signal

list_changed = Signal()
