"""Which organization a request acts for.

A user may belong to several organizations. The API takes the `X-Organization` header (an
organization id); the portal keeps the choice in the session. Without either, the first
membership by organization name is used.
"""

from accounts.models import Membership, Organization
from prm.common.errors import NotFound
from prm.common.rows import columns, fetch_one

SESSION_KEY = "current_org_id"
HEADER = "HTTP_X_ORGANIZATION"


def current_membership(request) -> Membership | None:
    if hasattr(request, "_current_membership"):
        return request._current_membership
    membership = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        wanted = request.META.get(HEADER)
        if wanted is not None:
            if not _is_id(wanted):
                raise NotFound("Organization not found.")
            membership = _membership_of(user, int(wanted))
            if membership is None:
                raise NotFound("Organization not found.")
        else:
            session = getattr(request, "session", None)
            org_id = session.get(SESSION_KEY) if session is not None else None
            if org_id and _is_id(org_id):
                membership = _membership_of(user, int(org_id))
            if membership is None:
                membership = _membership_of(user, None)
    if membership is not None:
        membership.user = user  # already loaded: no second read of the user row
    request._current_membership = membership
    return membership


def _is_id(value) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) < 2**63  # a bigint: a longer number is no id


def _membership_of(user, org_id: int | None) -> Membership | None:
    """The user's membership of org_id (None: the first by organization name), its organization
    attached, in one plain query (read on every request)."""
    member, org = Membership._meta.db_table, Organization._meta.db_table
    sql = (f"SELECT {columns(Membership, 'm')}, {columns(Organization, 'o')} FROM {member} m "
           f"JOIN {org} o ON o.id = m.organization_id WHERE m.user_id = %s")
    params = [user.pk]
    if org_id is None:
        sql += " ORDER BY o.name, o.id"
    else:
        sql += " AND m.organization_id = %s"
        params.append(org_id)
    found = fetch_one(sql + " LIMIT 1", params, Membership, Organization)
    if found is None:
        return None
    membership, organization = found
    membership.organization = organization
    return membership
