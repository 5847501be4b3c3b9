import factory
from django.contrib.auth import get_user_model

from campaigns.models import Campaign, Element, Membership, Universe, Workspace
from mediastudio.jobs.models import Job


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-123")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class UniverseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Universe

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Universe {n}")
    tone = "warm"
    palette = ["#1f2a44", "#e07a5f"]


class ElementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Element

    universe = factory.SubFactory(UniverseFactory)
    kind = Element.Kind.PRODUCT
    name = factory.Sequence(lambda n: f"Element {n}")
    description = "a matte black can with a copper lid"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    brief = "Launch the cold brew can."
    budget = 100


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = Job.Kind.DEMO
    task = "mediastudio.jobs.demo.count_steps"
    title = factory.Sequence(lambda n: f"Job {n}")
