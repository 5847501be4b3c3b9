"""The websocket consumer: authenticated, workspace-checked, snapshot on connect, then live events."""

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from channels.db import database_sync_to_async

from mediastudio.jobs.models import Job
from mediastudio.jobs.services import job_broadcast, job_progress
from mediastudio.routing import websocket_urlpatterns
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db(transaction=True)

app = URLRouter(websocket_urlpatterns)


async def _connect(path, user):
    communicator = WebsocketCommunicator(app, path)
    communicator.scope["user"] = user
    communicator.scope["session"] = {}
    connected, code = await communicator.connect()
    return communicator, connected, code


def test_it_sends_a_snapshot_then_live_events(owner, workspace):
    from asgiref.sync import async_to_sync

    job = JobFactory(workspace=workspace, status=Job.Status.RUNNING, title="Render")

    async def scenario():
        communicator, connected, _ = await _connect(f"/ws/jobs/?workspace={workspace.pk}", owner)
        assert connected
        snapshot = await communicator.receive_json_from()
        assert snapshot["type"] == "snapshot" and [j["id"] for j in snapshot["jobs"]] == [str(job.pk)]
        await database_sync_to_async(job_progress)(job=job, percent=55, message="halfway")
        event = await communicator.receive_json_from()
        assert event["type"] == "job" and event["job"]["progress"] == 55 and event["job"]["message"] == "halfway"
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_it_refuses_anonymous_users_and_other_workspaces(owner, outsider, workspace):
    from asgiref.sync import async_to_sync
    from django.contrib.auth.models import AnonymousUser

    job = JobFactory(workspace=workspace)

    async def scenario():
        _, connected, code = await _connect(f"/ws/jobs/?workspace={workspace.pk}", AnonymousUser())
        assert not connected and code == 4401
        _, connected, code = await _connect(f"/ws/jobs/?workspace={workspace.pk}", outsider)
        assert not connected and code == 4404
        _, connected, code = await _connect(f"/ws/jobs/{job.pk}/", outsider)
        assert not connected and code == 4404
        communicator, connected, _ = await _connect(f"/ws/jobs/{job.pk}/", owner)
        assert connected
        assert (await communicator.receive_json_from())["jobs"][0]["id"] == str(job.pk)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_another_workspaces_socket_hears_nothing(owner, outsider, workspace, other_workspace):
    from asgiref.sync import async_to_sync

    job = JobFactory(workspace=workspace, status=Job.Status.RUNNING)

    async def scenario():
        theirs, connected, _ = await _connect(f"/ws/jobs/?workspace={other_workspace.pk}", outsider)
        assert connected
        assert (await theirs.receive_json_from())["jobs"] == []
        await database_sync_to_async(job_broadcast)(job)
        assert await theirs.receive_nothing(timeout=0.3)
        await theirs.disconnect()

    async_to_sync(scenario)()


def test_a_batch_jobs_socket_hears_its_videos_too(owner, workspace):
    from asgiref.sync import async_to_sync

    batch = JobFactory(workspace=workspace, kind=Job.Kind.BATCH, status=Job.Status.RUNNING)
    video = JobFactory(workspace=workspace, kind=Job.Kind.VIDEO, parent=batch, status=Job.Status.RUNNING)
    elsewhere = JobFactory(workspace=workspace, kind=Job.Kind.VIDEO, status=Job.Status.RUNNING)

    async def scenario():
        communicator, connected, _ = await _connect(f"/ws/jobs/{batch.pk}/", owner)
        assert connected
        snapshot = await communicator.receive_json_from()
        assert [j["id"] for j in snapshot["jobs"]] == [str(batch.pk), str(video.pk)]
        await database_sync_to_async(job_progress)(job=video, percent=40, message="rendering")
        event = await communicator.receive_json_from()
        assert event["job"]["id"] == str(video.pk) and event["job"]["progress"] == 40
        await database_sync_to_async(job_progress)(job=elsewhere, percent=40, message="rendering")
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    async_to_sync(scenario)()
