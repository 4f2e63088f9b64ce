"""API for match runs: both sides of a partnership follow progress and may ask for a re-match.

Overlaps themselves are read through the sharing rules (see the account-mapping views)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.selectors import partnership_for
from mapping import selectors_matching
from mapping.services.matching import match_run_request
from prm.common.api import OrgAPIView


class MatchRunOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    kind = serializers.CharField()
    trigger = serializers.CharField()
    progress = serializers.IntegerField()
    list_pairs = serializers.IntegerField()
    list_pairs_done = serializers.IntegerField()
    records_rematched = serializers.IntegerField()
    timings = serializers.DictField(child=serializers.FloatField())
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class MatchRunListApi(OrgAPIView):
    @extend_schema(responses=MatchRunOut(many=True))
    def get(self, request, partnership_id: int):
        runs = selectors_matching.match_runs_of(org=self.org, partnership_id=partnership_id)
        return self.paginate(runs, MatchRunOut)

    @extend_schema(request=None, responses={202: MatchRunOut})
    def post(self, request, partnership_id: int):
        """Ask for a full re-match (queued; changes already waiting fold into it)."""
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        run = match_run_request(actor=request.user, org=self.org, partnership=partnership)
        run.refresh_from_db()
        return Response(MatchRunOut(run).data, status=status.HTTP_202_ACCEPTED)


class MatchRunDetailApi(OrgAPIView):
    @extend_schema(responses=MatchRunOut)
    def get(self, request, partnership_id: int, run_id: int):
        run = selectors_matching.match_run_for(org=self.org, partnership_id=partnership_id, run_id=run_id)
        return Response(MatchRunOut(run).data)
