"""A campaign's budget cannot be set below what it has already spent plus reserved, in the form or the
API; an unchanged budget still lets an overspent campaign be edited; an edit never writes back a stale ledger."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from campaigns import services
from campaigns.models import Campaign
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

MESSAGE = "The budget cannot be below what is already committed: spent USD 3.00, reserved USD 2.50; it must be at least USD 5.50."


def _form(campaign, **kw):
    return {"name": campaign.name, "objective": campaign.objective, "budget": campaign.budget, "currency": "USD",
            "status": campaign.status, **kw}


@pytest.fixture
def campaign(workspace):
    return CampaignFactory(workspace=workspace, budget=Decimal("10"), spent=Decimal("3"), reserved=Decimal("2.5"))


def test_it_refuses_a_budget_below_spent_plus_reserved_in_the_form(client, owner, campaign):
    client.force_login(owner)
    response = client.post(f"/campaigns/{campaign.pk}/edit/", _form(campaign, budget="5.49"))
    assert response.status_code == 400
    assert response.context["form"].errors["budget"] == [MESSAGE]
    assert MESSAGE in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.budget == Decimal("10")

    response = client.post(f"/campaigns/{campaign.pk}/edit/", _form(campaign, budget="5.50"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.budget == Decimal("5.50") and campaign.remaining == 0


def test_it_refuses_the_same_in_the_api(owner, campaign):
    api = APIClient()
    api.force_authenticate(owner)
    response = api.patch(f"/api/campaigns/{campaign.pk}/", {"budget": "4"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"budget": [MESSAGE]}
    campaign.refresh_from_db()
    assert campaign.budget == Decimal("10")


def test_it_lets_an_overspent_campaign_keep_its_budget_while_other_fields_change(client, owner, workspace):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("5"), spent=Decimal("6"))
    client.force_login(owner)
    response = client.post(f"/campaigns/{campaign.pk}/edit/", _form(campaign, name="Renamed"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Renamed" and campaign.spent == Decimal("6")


def test_it_checks_the_budget_against_the_ledger_as_it_is_now(campaign):
    stale = Campaign.objects.get(pk=campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(reserved=Decimal("6"))  # a job reserves more while the form is open
    with pytest.raises(ValidationError) as refused:
        services.campaign_update(campaign=stale, budget=Decimal("8"))
    assert "reserved USD 6.00" in refused.value.message_dict["budget"][0]


def test_it_never_writes_back_the_ledger_as_the_edit_found_it(campaign):
    stale = Campaign.objects.get(pk=campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(reserved=Decimal("6"), spent=Decimal("3.5"))
    services.campaign_update(campaign=stale, name="Renamed")
    campaign.refresh_from_db()
    assert (campaign.name, campaign.spent, campaign.reserved) == ("Renamed", Decimal("3.5"), Decimal("6"))
