import factory
from allauth.account.models import EmailAddress

from accounts.models import Membership, Organization, Partnership, Role, StageChange, User

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = Organization.Kind.VENDOR


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.PARTNER_MANAGER


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership
        skip_postgeneration_save = True

    initiator = factory.SubFactory(OrganizationFactory)
    partner = factory.SubFactory(OrganizationFactory)

    @factory.post_generation
    def history(self, create, extracted, **kwargs):
        if create:
            StageChange.objects.create(partnership=self, from_stage="", to_stage=self.stage, note="created")


def member(org: Organization, role: str = Role.PARTNER_MANAGER, **kwargs) -> User:
    user = UserFactory(**kwargs)
    Membership.objects.create(user=user, organization=org, role=role)
    return user
