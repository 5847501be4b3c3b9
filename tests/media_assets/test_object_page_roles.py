"""A page about one object offers its actions by the user's role in the object's own workspace,
not in the workspace picked in the switcher: an editor here and a viewer there, following a link
to the other workspace's job, file or voiceover, sees no Cancel, Delete or edit form there (the
server would refuse them anyway), and sees them again on their own workspace's objects."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audio import services as audio_services
from media_assets import services as asset_services
from mediastudio.jobs.models import Job
from tests.audio.test_services import SHORT
from tests.conftest import pick_workspace
from tests.factories import JobFactory, MembershipFactory
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = pytest.mark.django_db

ACTIONS = {
    "job": 'data-job-actions',
    "asset": 'action="/library/',  # the details form and the Delete form post to the asset's own URLs
    "audio": 'data-job-actions',
}


@pytest.fixture
def editor_here_viewer_there(client, owner, workspace, other_workspace):
    """The owner of `workspace` is only a viewer of `other_workspace`, and has `workspace` picked."""
    MembershipFactory(workspace=other_workspace, user=owner, role="viewer")
    client.force_login(owner)
    pick_workspace(client, workspace)
    return client


def _pages(workspace, owner, mp4_file):
    job = JobFactory(workspace=workspace, status=Job.Status.FAILED)
    asset = asset_services.asset_create_from_file(workspace=workspace, path=mp4_file, source="uploaded",
                                                  title="Pour shot", make_previews=False)
    voiceover = audio_services.voiceover_request(workspace=workspace, user=owner, script=SHORT, voice="en-us")
    return {
        "job": reverse("jobs:detail", args=[job.pk]),
        "asset": reverse("media_assets:asset-detail", args=[asset.pk]),
        "audio": reverse("audio:detail", args=[voiceover.pk]),
    }


@requires_ffmpeg
def test_another_workspaces_pages_offer_no_actions_to_a_viewer_there(
        editor_here_viewer_there, owner, workspace, other_workspace, mp4_file):
    theirs = _pages(other_workspace, owner, mp4_file)
    ours = _pages(workspace, owner, mp4_file)
    for name, url in theirs.items():
        response = editor_here_viewer_there.get(url)
        assert response.status_code == 200, name
        assert ACTIONS[name] not in response.content.decode(), f"the {name} page offers actions to a viewer"
    for name, url in ours.items():
        assert ACTIONS[name] in editor_here_viewer_there.get(url).content.decode(), f"the {name} page lost its actions"
