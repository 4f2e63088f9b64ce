from django import forms

from mapping.models import MatchDecision
from mapping.selectors_review import ReviewFilters


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
        return ReviewFilters(my_list_id=d["my_list"], min_score=d["min_score"], max_score=d["max_score"],
                             search=d["q"].strip())


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=MatchDecision.Decision.choices)
    note = forms.CharField(required=False, max_length=2000)


class MatchThresholdsForm(forms.Form):
    """My side's thresholds (they bound how my accounts are shown); blank: the site-wide default."""

    threshold = forms.FloatField(required=False, min_value=0, max_value=1, label="Match threshold",
                                 help_text="Pairs scoring at least this are overlaps. Blank: the default.")
    review_threshold = forms.FloatField(required=False, min_value=0, max_value=1, label="Review threshold",
                                        help_text="Pairs scoring from this up to the match threshold wait for "
                                                  "review. Blank: the default.")


class MatchTrainForm(forms.Form):
    method = forms.ChoiceField(choices=[
        ("labelled", "From our reviews (confirmed and rejected pairs)"),
        ("unsupervised", "Without reviews (a sample of both sides' candidate pairs)"),
    ], label="Train the scoring model")
    sample = forms.IntegerField(required=False, min_value=1_000, max_value=2_000_000, label="Pairs sampled",
                                help_text="Without reviews only; blank: 200,000.")
