from django import forms

from mapping.matching.models import MatchDecision
from mapping.sharing.models import SHAREABLE_FIELD_LABELS, SHAREABLE_FIELDS, SharingLevel
from mapping.sharing.selectors.pages import QUICK_WINS, SORTS, OverlapFilters
from mapping.sharing.selectors.review import ReviewFilters
from mapping.sharing.selectors.visibility import POPULATIONS

POPULATION_CHOICES = [("", "Any")] + [(p, p.capitalize()) for p in POPULATIONS]
SORT_CHOICES = [
    ("-score", "Best match first"),
    ("score", "Weakest match first"),
    ("name", "My account A→Z"),
    ("-name", "My account Z→A"),
    ("region", "My region"),
    ("owner", "My owner"),
]
assert {key for key, _label in SORT_CHOICES} == set(SORTS)


class SharingRuleForm(forms.Form):
    list_id = forms.IntegerField(widget=forms.HiddenInput)
    level = forms.ChoiceField(choices=SharingLevel.choices)
    fields = forms.MultipleChoiceField(
        choices=[(f, SHAREABLE_FIELD_LABELS[f]) for f in SHAREABLE_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Fields shown",
    )
    extra_fields = forms.CharField(
        required=False,
        max_length=2000,
        label="Extra fields shown",
        help_text="Keys of extra fields, comma-separated.",
    )

    def clean_extra_fields(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["extra_fields"].split(",") if part.strip()]


class OverlapFilterForm(forms.Form):
    """The overlap list's filters (GET). Region and industry filter *my* accounts: filtering on
    the partner's would reveal values the partner may not show."""

    view = forms.ChoiceField(
        choices=[("", "All overlaps")] + [(k, v[2]) for k, v in QUICK_WINS.items()], required=False
    )
    my_list = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="My list")
    their_list = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Their list")
    my_kind = forms.ChoiceField(choices=POPULATION_CHOICES, required=False, label="My population")
    their_kind = forms.ChoiceField(choices=POPULATION_CHOICES, required=False, label="Their population")
    owner = forms.CharField(required=False, max_length=254, label="My owner (e-mail)")
    mine = forms.BooleanField(required=False, label="My accounts only")
    region = forms.CharField(required=False, max_length=100)
    industry = forms.CharField(required=False, max_length=200)
    min_score = forms.FloatField(required=False, min_value=0, max_value=1, label="Min. score")
    q = forms.CharField(required=False, max_length=200, label="Search")
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)

    def __init__(self, *args, my_lists=(), their_lists=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["my_list"].choices = [("", "All")] + [(lst.pk, lst.name) for lst in my_lists]
        self.fields["their_list"].choices = [("", "All")] + [(s.id, s.name) for s in their_lists]

    def to_filters(self) -> OverlapFilters:
        d = self.cleaned_data
        return OverlapFilters(
            view=d["view"],
            my_list_id=d["my_list"],
            their_list_id=d["their_list"],
            my_kind=d["my_kind"],
            their_kind=d["their_kind"],
            owner_email=d["owner"].strip(),
            mine_only=d["mine"],
            region=d["region"].strip(),
            industry=d["industry"].strip(),
            min_score=d["min_score"],
            search=d["q"].strip(),
            sort=d["sort"] or "-score",
        )


class ReviewFilterForm(forms.Form):
    """The review queue's filters (GET); they filter *my* accounts only."""

    my_list = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="My list")
    min_score = forms.FloatField(required=False, min_value=0, max_value=1, label="Min. score")
    max_score = forms.FloatField(required=False, min_value=0, max_value=1, label="Max. score")
    q = forms.CharField(required=False, max_length=200, label="My account")

    def __init__(self, *args, my_lists=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["my_list"].choices = [("", "All")] + [(lst.pk, lst.name) for lst in my_lists]

    def to_filters(self) -> ReviewFilters:
        d = self.cleaned_data
        return ReviewFilters(
            my_list_id=d["my_list"], min_score=d["min_score"], max_score=d["max_score"], search=d["q"].strip()
        )


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=MatchDecision.Decision.choices)
    note = forms.CharField(required=False, max_length=2000)
