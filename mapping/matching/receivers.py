"""Matching's answers to what the lists tell (connected in MappingConfig.ready)."""


def list_changed(sender, *, list_id: int, changeset_id: int, **kwargs) -> None:
    """An account list changed: every active partnership of the list's owner gets a match run
    (debounced: changes arriving while a run waits fold into it), which re-matches only what
    changed. The service is imported here, at the first change, not at start-up (it loads the
    engine)."""
    from mapping.matching.services.runs import schedule_for_list_change

    schedule_for_list_change(list_id, changeset_id)
