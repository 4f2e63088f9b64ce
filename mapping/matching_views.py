from django.contrib import messages
from django.shortcuts import redirect, render

from accounts.roles import Capability, role_can
from accounts.selectors import partnership_for
from mapping.selectors_matching import latest_match_run
from mapping.services.matching import match_run_request
from prm.common.portal import portal_view


@portal_view
def matching_status(request, partnership_id: int):
    """The partnership's matching status: a progress bar that polls itself while a run is active."""
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    if request.method == "POST":
        match_run_request(actor=request.user, org=request.org, partnership=partnership)
        messages.success(request, "A full re-match is queued.")
        if not request.htmx:
            return redirect("portal:partnership_detail", partnership_id=partnership.pk)
    run = latest_match_run(org=request.org, partnership_id=partnership.pk)
    return render(request, "mapping/_matching_status.html", {
        "partnership": partnership,
        "run": run,
        "can_rematch": role_can(request.membership.role, Capability.MANAGE_LISTS)
        and partnership.status == partnership.Status.ACTIVE,
    })
