"""API for account mapping through the sharing rules: rules and their audit log, the overlap
matrix, overlap lists (with the ready views), white space, account 360, the ecosystem, and CSV
exports of each list. Views only translate: every rule is applied by mapping.sharing.selectors."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.selectors import partnership_for
from mapping.lists.exports import csv_response
from mapping.lists.selectors import account_list_for
from mapping.sharing import read_cache
from mapping.sharing import selectors as overlaps
from mapping.sharing.models import SHAREABLE_FIELDS, SharingLevel
from mapping.sharing.selectors.review import ReviewFilters, review_queue_for
from mapping.sharing.services import records_set_private, sharing_rule_set
from prm.common.api import PAGE_PARAMETERS, ListingAPIView, OrgAPIView, paged, parse

# ---------------------------------------------------------------- serializers


class SharingRuleOut(serializers.Serializer):
    list_id = serializers.IntegerField()
    list_name = serializers.CharField()
    list_kind = serializers.CharField()
    level = serializers.ChoiceField(choices=SharingLevel.choices)
    fields = serializers.ListField(child=serializers.CharField())
    extra_fields = serializers.ListField(child=serializers.CharField())
    updated_at = serializers.DateTimeField(allow_null=True)


class SharingRuleIn(serializers.Serializer):
    level = serializers.ChoiceField(choices=SharingLevel.choices)
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=SHAREABLE_FIELDS),
        required=False,
        default=list,
        help_text="Allow-list, honoured at 'overlaps' and 'all'.",
    )
    extra_fields = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        max_length=30,
        help_text="Keys of the records' extra fields to show, at 'overlaps' and 'all'.",
    )


class SnapshotOut(serializers.Serializer):
    level = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    extra_fields = serializers.ListField(child=serializers.CharField())


class SharingRuleChangeOut(serializers.Serializer):
    id = serializers.IntegerField()
    partnership_id = serializers.IntegerField()
    list_id = serializers.IntegerField(source="account_list_id", allow_null=True)
    list_name = serializers.CharField()
    changed_by = serializers.SerializerMethodField()
    changed_at = serializers.DateTimeField()
    before = SnapshotOut()
    after = SnapshotOut()

    def get_changed_by(self, obj) -> str | None:
        return obj.changed_by.email if obj.changed_by else None


class ListRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class MatrixColumnOut(ListRefOut):
    level = serializers.CharField()
    size = serializers.IntegerField(help_text="Accounts in the partner's list (private ones not counted).")
    shows_records = serializers.BooleanField()


class MatrixCellOut(serializers.Serializer):
    their_list_id = serializers.IntegerField()
    count = serializers.IntegerField()
    rate = serializers.FloatField(help_text="Share of my list's accounts the partner has in this list.")
    opens = serializers.BooleanField(help_text="The overlap list behind the cell may be read.")


class MatrixRowOut(ListRefOut):
    size = serializers.IntegerField()
    cells = MatrixCellOut(many=True)


class PartnerRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MatrixOut(serializers.Serializer):
    partnership_id = serializers.IntegerField()
    partner = PartnerRefOut()
    columns = MatrixColumnOut(many=True)
    rows = MatrixRowOut(many=True)


class MyRecordOut(serializers.Serializer):
    id = serializers.IntegerField()
    list_id = serializers.IntegerField()
    list_name = serializers.CharField()
    name = serializers.CharField()
    domain = serializers.CharField()
    country = serializers.CharField()
    region = serializers.CharField()
    industry = serializers.CharField()
    owner_name = serializers.CharField()
    owner_email = serializers.CharField()
    stage = serializers.CharField()
    crm_id = serializers.CharField()
    private = serializers.BooleanField()


class PartnerRecordOut(serializers.Serializer):
    lists = ListRefOut(many=True, help_text="The partner's shared lists that hold the account.")
    fields = serializers.DictField(
        child=serializers.CharField(),
        help_text=f"Only the fields the partner allows, among {', '.join(SHAREABLE_FIELDS)}.",
    )
    extra = serializers.DictField(
        child=serializers.CharField(), help_text="Only the extra fields the partner allows."
    )


class OverlapOut(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.FloatField()
    confirmed = serializers.BooleanField()
    reasons = serializers.CharField(help_text="Only the parts about fields the partner allows.")
    mine = MyRecordOut()
    partner = PartnerRecordOut()


class PartnerWhiteSpaceOut(serializers.Serializer):
    partner = PartnerRecordOut()


class MyWhiteSpaceOut(serializers.Serializer):
    id = serializers.IntegerField()
    mine = MyRecordOut()


class Account360PartnerOut(serializers.Serializer):
    partnership_id = serializers.IntegerField()
    partner = PartnerRefOut()
    score = serializers.FloatField()
    reasons = serializers.CharField()
    how = serializers.ListField(
        child=serializers.CharField(), help_text="Kinds of the partner's lists holding it."
    )
    record = PartnerRecordOut()


class Account360Out(serializers.Serializer):
    account = MyRecordOut()
    partners = Account360PartnerOut(many=True)


class EcosystemRowOut(serializers.Serializer):
    partnership_id = serializers.IntegerField()
    partner = PartnerRefOut()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="'<my kind>__<their kind>': count."
    )
    total = serializers.IntegerField()


class OverlapQueryIn(serializers.Serializer):
    view = serializers.ChoiceField(
        choices=list(overlaps.QUICK_WINS),
        required=False,
        allow_blank=True,
        default="",
        help_text="A ready view (population pair).",
    )
    my_list = serializers.IntegerField(required=False, allow_null=True, default=None)
    their_list = serializers.IntegerField(required=False, allow_null=True, default=None)
    my_kind = serializers.ChoiceField(
        choices=overlaps.POPULATIONS, required=False, allow_blank=True, default=""
    )
    their_kind = serializers.ChoiceField(
        choices=overlaps.POPULATIONS, required=False, allow_blank=True, default=""
    )
    owner = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=254, help_text="My account owner's e-mail."
    )
    mine = serializers.BooleanField(
        required=False, default=False, help_text="Only my accounts (owner e-mail = mine)."
    )
    region = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100, help_text="My account's region."
    )
    industry = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="My account's industry."
    )
    min_score = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=0, max_value=1
    )
    search = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    sort = serializers.ChoiceField(
        choices=list(overlaps.SORTS),
        required=False,
        allow_blank=True,
        default="-score",
        help_text="Default (or empty): -score.",
    )


def overlap_filters(data: dict) -> overlaps.OverlapFilters:
    return overlaps.OverlapFilters(
        view=data["view"],
        my_list_id=data["my_list"],
        their_list_id=data["their_list"],
        my_kind=data["my_kind"],
        their_kind=data["their_kind"],
        owner_email=data["owner"].strip(),
        mine_only=data["mine"],
        region=data["region"].strip(),
        industry=data["industry"].strip(),
        min_score=data["min_score"],
        search=data["search"].strip(),
        sort=data["sort"] or "-score",
    )


# Query parameters, documented from the serializers that parse them (bounds, lengths, choices).
OVERLAP_PARAMETERS = [OverlapQueryIn, *PAGE_PARAMETERS]


OverlapPageOut = paged(OverlapOut, "PaginatedSharedOverlapList")
PartnerWhiteSpacePageOut = paged(PartnerWhiteSpaceOut, "PaginatedPartnerWhiteSpaceList")
MyWhiteSpacePageOut = paged(MyWhiteSpaceOut, "PaginatedMyWhiteSpaceList")


def cached_json(api: OrgAPIView, name: str, *, partnership, parts: tuple, compute) -> HttpResponse:
    """compute()'s data rendered as the response body, kept by the read cache (mapping.sharing.read_cache)
    until the data it came from changes; `parts`: what else it depends on."""
    request = api.request
    renderer, media_type = request.accepted_renderer, request.accepted_media_type
    content = read_cache.cached(
        name,
        partnership=partnership,
        parts=(*parts, type(renderer).__name__, media_type),
        compute=lambda: renderer.render(compute(), media_type, api.get_renderer_context()),
    )
    return HttpResponse(
        content, content_type=f"{media_type}; charset={renderer.charset}" if renderer.charset else media_type
    )


# ---------------------------------------------------------------- sharing rules


def _rule_out(account_list, rule) -> dict:
    return {
        "list_id": account_list.pk,
        "list_name": account_list.name,
        "list_kind": account_list.kind,
        "level": rule.level if rule else SharingLevel.HIDDEN,
        "fields": list(rule.fields) if rule else [],
        "extra_fields": list(rule.extra_fields) if rule else [],
        "updated_at": rule.updated_at if rule else None,
    }


class SharingRuleListApi(OrgAPIView):
    pagination_class = None  # one row per list of mine: a plain array, documented as such

    @extend_schema(responses=SharingRuleOut(many=True))
    def get(self, request, partnership_id: int):
        """What I share with this partner, list by list (no rule: hidden)."""
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        rules = overlaps.sharing_rules_of(org=self.org, partnership=partnership)
        return Response([_rule_out(lst, rule) for lst, rule in rules])


class SharingRuleDetailApi(OrgAPIView):
    @extend_schema(responses=SharingRuleOut)
    def get(self, request, partnership_id: int, list_id: int):
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        account_list = account_list_for(org=self.org, list_id=list_id)
        rule = dict(overlaps.sharing_rules_of(org=self.org, partnership=partnership)).get(account_list)
        return Response(_rule_out(account_list, rule))

    @extend_schema(request=SharingRuleIn, responses=SharingRuleOut)
    def put(self, request, partnership_id: int, list_id: int):
        """Set what the partner sees of one of my lists. Needs Manage lists; audited."""
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        account_list = account_list_for(org=self.org, list_id=list_id)
        data = parse(SharingRuleIn, request.data)
        rule = sharing_rule_set(
            actor=request.user, partnership=partnership, account_list=account_list, **data
        )
        return Response(_rule_out(account_list, rule))


class SharingRuleChangeListApi(OrgAPIView):
    @extend_schema(responses=SharingRuleChangeOut(many=True))
    def get(self, request, partnership_id: int):
        """The audit log of my organization's rule changes for this partnership (admins only)."""
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        changes = overlaps.sharing_rule_changes_of(
            org=self.org, membership=self.membership, partnership=partnership
        )
        return self.paginate(changes, SharingRuleChangeOut)


# ---------------------------------------------------------------- reads


def matrix_out(matrix: overlaps.OverlapMatrix) -> dict:
    side = matrix.side
    return {
        "partnership_id": side.partnership.pk,
        "partner": {"id": side.other.pk, "name": side.other.name},
        "columns": [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "level": s.level,
                "size": size,
                "shows_records": s.shows_records,
            }
            for s, size in matrix.columns
        ],
        "rows": [
            {
                "id": r.my_list.pk,
                "name": r.my_list.name,
                "kind": r.my_list.kind,
                "size": r.size,
                "cells": [
                    {
                        "their_list_id": c.their_list.id,
                        "count": c.count,
                        "rate": round(c.rate, 4),
                        "opens": c.opens,
                    }
                    for c in r.cells
                ],
            }
            for r in matrix.rows
        ],
    }


class OverlapMatrixApi(OrgAPIView):
    @extend_schema(responses=MatrixOut)
    def get(self, request, partnership_id: int):
        """My lists x the partner's lists shared with me: overlap counts and match rates."""
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        return cached_json(
            self,
            "matrix",
            partnership=partnership,
            parts=(self.org.pk,),
            compute=lambda: matrix_out(overlaps.overlap_matrix_for(org=self.org, partnership=partnership)),
        )


def _listing(api: OrgAPIView, partnership_id: int, partnership=None):
    partnership = partnership or partnership_for(org=api.org, partnership_id=partnership_id)
    data = parse(OverlapQueryIn, api.request.query_params)
    return overlaps.overlap_listing_for(
        org=api.org, partnership=partnership, user=api.request.user, filters=overlap_filters(data)
    )


class OverlapListApi(ListingAPIView):
    @extend_schema(parameters=OVERLAP_PARAMETERS, responses=OverlapPageOut)
    def get(self, request, partnership_id: int):
        """My accounts with the partner's matched accounts, showing only what the partner allows."""
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        user = request.user  # the page depends on the user's e-mail ("mine") and on the URL (links)
        return cached_json(
            self,
            "overlaps",
            partnership=partnership,
            parts=(self.org.pk, user.pk, user.email, request.build_absolute_uri()),
            compute=lambda: self.page_data(_listing(self, partnership_id, partnership)),
        )


class OverlapExportApi(OrgAPIView):
    @extend_schema(parameters=[OverlapQueryIn], responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, partnership_id: int):
        listing = _listing(self, partnership_id)
        return csv_response(overlaps.listing_csv_rows(listing), f"overlaps-{partnership_id}.csv")


def _partner_white_space(api: OrgAPIView, partnership_id: int):
    partnership = partnership_for(org=api.org, partnership_id=partnership_id)
    return overlaps.partner_white_space_for(
        org=api.org,
        partnership=partnership,
        their_list_id=api.request.query_params.get("their_list"),
        search=api.request.query_params.get("search", "")[:200],
    )


WHITE_SPACE_PARAMETERS = [OpenApiParameter("their_list", int, required=True), OpenApiParameter("search", str)]


class PartnerWhiteSpaceApi(ListingAPIView):
    @extend_schema(parameters=WHITE_SPACE_PARAMETERS + PAGE_PARAMETERS, responses=PartnerWhiteSpacePageOut)
    def get(self, request, partnership_id: int):
        """The partner's accounts that match none of mine, in a list shared as 'all accounts'."""
        return self.page_of(_partner_white_space(self, partnership_id))


class PartnerWhiteSpaceExportApi(OrgAPIView):
    @extend_schema(parameters=WHITE_SPACE_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, partnership_id: int):
        listing = _partner_white_space(self, partnership_id)
        return csv_response(overlaps.listing_csv_rows(listing), f"partner-white-space-{partnership_id}.csv")


class MyWhiteSpaceQueryIn(serializers.Serializer):
    my_list = serializers.IntegerField(required=False, allow_null=True, default=None)
    mine = serializers.BooleanField(
        required=False, default=False, help_text="Only my accounts (owner e-mail = mine)."
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="In my account's name (the first 200 characters).",
    )


def _my_white_space(api: OrgAPIView, partnership_id: int):
    partnership = partnership_for(org=api.org, partnership_id=partnership_id)
    data = parse(MyWhiteSpaceQueryIn, api.request.query_params)
    return overlaps.my_white_space_for(
        org=api.org,
        partnership=partnership,
        my_list_id=data["my_list"],
        user=api.request.user,
        mine_only=data["mine"],
        search=data["search"][:200],
    )


MY_WHITE_SPACE_PARAMETERS = [MyWhiteSpaceQueryIn]


class MyWhiteSpaceApi(ListingAPIView):
    @extend_schema(parameters=MY_WHITE_SPACE_PARAMETERS + PAGE_PARAMETERS, responses=MyWhiteSpacePageOut)
    def get(self, request, partnership_id: int):
        """My accounts the partner does not have (in the lists it shares at record level)."""
        return self.page_of(_my_white_space(self, partnership_id))


class MyWhiteSpaceExportApi(OrgAPIView):
    @extend_schema(parameters=MY_WHITE_SPACE_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, partnership_id: int):
        listing = _my_white_space(self, partnership_id)
        return csv_response(overlaps.listing_csv_rows(listing), f"my-white-space-{partnership_id}.csv")


class Account360Api(OrgAPIView):
    @extend_schema(responses=Account360Out)
    def get(self, request, record_id: int):
        """One of my accounts: every partner that has it and how, under each partner's rules."""
        record, partners = overlaps.account_360_for(org=self.org, record_id=record_id)
        account = overlaps.my_record_view(record, record.account_list)
        return Response({"account": account, "partners": partners})


_ECOSYSTEM_KEYS = ["partner", "total", *[f"{a}__{b}" for a, b in overlaps.ECOSYSTEM_PAIRS]]
ECOSYSTEM_PARAMETERS = [
    OpenApiParameter(
        "sort",
        str,
        enum=[s for key in _ECOSYSTEM_KEYS for s in (key, f"-{key}")],
        description="By partner name, total or one population pair's count ('-': descending; default -total).",
    )
]


class EcosystemApi(OrgAPIView):
    pagination_class = None  # one row per partnership: a plain array, documented as such

    @extend_schema(parameters=ECOSYSTEM_PARAMETERS, responses=EcosystemRowOut(many=True))
    def get(self, request):
        """One row per partner: overlap counts per population pair."""
        return Response(
            overlaps.ecosystem_for(org=self.org, sort=request.query_params.get("sort", "-total")[:60])
        )


class EcosystemExportApi(OrgAPIView):
    @extend_schema(parameters=ECOSYSTEM_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        rows = overlaps.ecosystem_for(org=self.org, sort=request.query_params.get("sort", "-total")[:60])
        return csv_response(overlaps.ecosystem_csv_rows(rows), "ecosystem.csv")


# ---------------------------------------------------------------- private records


class PrivateRecordsIn(serializers.Serializer):
    record_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=10_000
    )
    private = serializers.BooleanField()


class PrivateRecordsOut(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Records whose flag changed (the others already had it).")


class PrivateRecordsApi(OrgAPIView):
    @extend_schema(request=PrivateRecordsIn, responses=PrivateRecordsOut)
    def post(self, request, list_id: int):
        """Mark records of one of my lists private (never shown to partners, not even in counts) or
        shareable again. Needs Manage lists; all ids must belong to the list, or nothing changes."""
        account_list = account_list_for(org=self.org, list_id=list_id)
        data = parse(PrivateRecordsIn, request.data)
        changed = records_set_private(actor=request.user, account_list=account_list, **data)
        return Response({"changed": changed})


# ------------------------------------------------------------------- the review queue


class ReviewPairOut(serializers.Serializer):
    id = serializers.IntegerField()
    left_record = serializers.IntegerField(
        help_text="The initiator's record of the pair (for match-decisions)."
    )
    right_record = serializers.IntegerField(
        help_text="The partner's record of the pair (for match-decisions)."
    )
    score = serializers.FloatField()
    reasons = serializers.CharField(help_text="Only the parts about fields the partner allows.")
    mine = MyRecordOut()
    partner = PartnerRecordOut()


ReviewPairPageOut = paged(ReviewPairOut, "ReviewPairPageOut")


class ReviewQueryIn(serializers.Serializer):
    my_list = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Only pairs of one of my lists."
    )
    min_score = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=0, max_value=1
    )
    max_score = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=0, max_value=1
    )
    search = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="In my account's name."
    )


class ReviewQueueApi(OrgAPIView):
    @extend_schema(
        parameters=[ReviewQueryIn, *PAGE_PARAMETERS],  # documented from the serializer that parses them
        responses=ReviewPairPageOut,
    )
    def get(self, request, partnership_id: int):
        """Near-miss pairs waiting for a reviewer, best scores first: my account in full, the
        partner's with only the fields it allows (pairs on lists it does not share at record level,
        or on its private accounts, are not listed). Decide with POST match-decisions/."""
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(ReviewQueryIn, request.query_params)
        queue = review_queue_for(
            org=self.org,
            partnership=partnership,
            user=request.user,
            filters=ReviewFilters(
                my_list_id=data["my_list"],
                min_score=data["min_score"],
                max_score=data["max_score"],
                search=data["search"],
            ),
        )
        return self.paginate(queue, ReviewPairOut)
