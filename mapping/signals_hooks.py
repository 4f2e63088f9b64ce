"""What happens after a committed change to an account list.

Called by the import services through `transaction.on_commit`, so only for changes that were
committed, once per change set that is not empty.
"""


def list_changed(list_id: int, changeset_id: int) -> None:
    """An account list changed: `ListChangeSet(changeset_id)` holds the ids of the records that were
    added, edited and removed. Every active partnership of the list's owner gets a match run
    (debounced: changes arriving while a run waits fold into it), which re-matches only what
    changed."""
    from mapping.services.matching import schedule_for_list_change

    schedule_for_list_change(list_id, changeset_id)
