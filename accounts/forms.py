from django import forms

from accounts.models import Invitation, Organization, PartnershipInvitation, Role, Stage, Tier
from prm.common.text import model_max_length


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=model_max_length(Organization, "name"))
    kind = forms.ChoiceField(choices=Organization.Kind.choices, initial=Organization.Kind.OTHER)
    website = forms.URLField(
        required=False, assume_scheme="https", max_length=model_max_length(Organization, "website")
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=model_max_length(Invitation, "email"))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.SALES_REP)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class PartnershipInviteForm(forms.Form):
    email = forms.EmailField(
        max_length=model_max_length(PartnershipInvitation, "email"),
        help_text="A partner manager or admin at the partner organization.",
    )
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.TextInput(attrs={"placeholder": "Why?"})
    )


class TierForm(forms.Form):
    tier = forms.ChoiceField(choices=Tier.choices)


class EndForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RespondForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), empty_label=None)
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("decline", "Decline")])

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = (
            organizations if organizations is not None else Organization.objects.none()
        )
