"""Live job progress over websockets.

/ws/jobs/?workspace=<id>  every job of a workspace the user belongs to
/ws/jobs/<uuid>/          one job
On connect: authenticated, member of the workspace (else the socket is closed with 4403/4404),
join the group, send a snapshot of the persisted rows; then forward `job.update` events.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from mediastudio.jobs import selectors
from mediastudio.jobs.services import job_serialize


class JobProgressConsumer(AsyncJsonWebsocketConsumer):
    SNAPSHOT_SIZE = 50

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        job_id = self.scope["url_route"]["kwargs"].get("job_id")
        if job_id:
            snapshot = await self._job_snapshot(user, job_id)
            if snapshot is None:
                await self.close(code=4404)
                return
            self.group = f"job-{job_id}"
            message = {"type": "snapshot", "jobs": snapshot}
        else:
            query = parse_qs(self.scope.get("query_string", b"").decode())
            workspace_id = (query.get("workspace") or [None])[0]
            if workspace_id is None:
                workspace_id = self.scope.get("session", {}).get("workspace_id")
            jobs = await self._workspace_snapshot(user, workspace_id)
            if jobs is None:
                await self.close(code=4404)
                return
            self.group = f"workspace-{workspace_id}"
            message = {"type": "snapshot", "jobs": jobs}
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(message)

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: dict, **kwargs) -> None:
        # Clients only listen; a ping keeps proxies from closing idle sockets.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def job_update(self, event: dict) -> None:
        await self.send_json({"type": "job", "job": event["job"]})

    @database_sync_to_async
    def _job_snapshot(self, user, job_id):
        """The job, then the jobs it groups (a batch's videos), which its page lists."""
        try:
            job = selectors.job_get(user=user, job_id=job_id)
        except Exception:
            return None
        return [job_serialize(j) for j in [job, *selectors.job_children(job=job)[: self.SNAPSHOT_SIZE]]]

    @database_sync_to_async
    def _workspace_snapshot(self, user, workspace_id):
        try:
            workspace_id = int(workspace_id)
        except (TypeError, ValueError):
            return None
        if not selectors.user_can_see_workspace(user=user, workspace_id=workspace_id):
            return None
        jobs = selectors.job_list(user=user, workspace_id=workspace_id)[: self.SNAPSHOT_SIZE]
        return [job_serialize(job) for job in jobs]
