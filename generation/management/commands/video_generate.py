"""Generate one video from a script, optionally waiting for it with a progress bar.

    manage.py video_generate --prompt "Cold brew can on marble" --tier standard --wait
    manage.py video_generate --prompt "..." --provider veo --model veo-3.1-fast-generate-preview \
        --duration 8 --aspect-ratio 16:9 --image product.png --wait --timeout 600

Without --wait it prints the job id and returns (a worker and the poll loop do the rest). With
--wait it polls the job until it is final, doing the job's due work itself so that it finishes
even when no worker runs, shows the progress, and prints the stored video's path. Exit status:
0 succeeded (or queued without --wait), 1 failed or canceled, 2 still running at --timeout.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mediastudio.lib.exceptions import ApplicationError


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--prompt", required=True)
        parser.add_argument("--workspace", help="workspace id or slug (default: the only one)")
        parser.add_argument("--user", help="username recorded as the creator")
        parser.add_argument("--campaign", type=int, help="campaign id: its budget is reserved")
        parser.add_argument("--tier", default="")
        parser.add_argument("--provider", default="")
        parser.add_argument("--model", default="")
        parser.add_argument("--no-fallback", action="store_true", help="only the provider/model asked for")
        parser.add_argument("--duration", type=float)
        parser.add_argument("--aspect-ratio", default="")
        parser.add_argument("--resolution", default="720p")
        parser.add_argument("--mood", type=float, default=50)
        parser.add_argument("--platform", default="")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--image", type=Path, help="a local image: the first frame (image-to-video)")
        parser.add_argument("--wait", action="store_true", help="poll until the video is ready, with a progress bar")
        parser.add_argument("--timeout", type=float, default=1800, help="seconds --wait waits at most (default 1800)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")

    def handle(self, *args, **o):
        from generation.services import video_generation_create, video_generation_wait

        workspace = _workspace(o["workspace"])
        user = _user(o["user"], workspace)
        campaign = None
        if o["campaign"] is not None:
            campaign = workspace.campaigns.filter(pk=o["campaign"]).first()
            if campaign is None:
                raise CommandError(f"No campaign {o['campaign']} in workspace '{workspace}'.")
        image_asset = _image(o["image"], workspace=workspace, campaign=campaign, user=user) if o["image"] else None
        try:
            generation, _ = video_generation_create(
                workspace=workspace, user=user, campaign=campaign, prompt=o["prompt"], mood=o["mood"],
                platform=o["platform"], aspect_ratio=o["aspect_ratio"], duration=o["duration"], resolution=o["resolution"],
                tier=o["tier"], provider=o["provider"], model=o["model"], allow_fallback=not o["no_fallback"],
                seed=o["seed"], image_asset=image_asset,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        chain = " → ".join(f"{c['provider']}/{c['model']} ${float(c['estimate']):.2f}" for c in generation.chain)
        self.stdout.write(f"job {generation.job_id}: {chain}")
        from generation.selectors import chain_warnings

        for warning in chain_warnings(generation.chain):
            self.stderr.write(self.style.WARNING(warning))
        if not o["wait"]:
            return

        bar = None
        if not o["no_progress"]:
            from tqdm import tqdm

            bar = tqdm(total=100, unit="%", desc="", file=self.stderr._out, leave=True,
                       bar_format="rendering: {percentage:3.0f}%|{bar}| {desc}")

        def show(job):
            if bar is None:
                return
            bar.n = job.progress
            bar.set_description_str((job.message or job.status)[:60], refresh=False)
            bar.refresh()

        generation = video_generation_wait(generation=generation, timeout=o["timeout"], on_progress=show)
        if bar is not None:
            bar.close()
        job = generation.job
        if job.status == job.Status.SUCCEEDED and generation.result_asset is not None:
            asset = generation.result_asset
            cost = f"${generation.actual_cost:.2f}" if generation.actual_cost is not None else "?"
            self.stdout.write(self.style.SUCCESS(f"succeeded on {job.result.get('provider')} ({job.result.get('model')}), cost {cost}"))
            self.stdout.write(_asset_path(asset))
            return
        for attempt in generation.attempts.order_by("id"):
            self.stderr.write(f"  {attempt.provider}/{attempt.model}: {attempt.status} {attempt.error}".rstrip())
        if job.is_final:
            raise CommandError(f"The video {job.status}: {job.error or job.message}")
        self.stderr.write(f"Still {job.status} after {o['timeout']:g} s ({job.progress}%): follow job {job.pk}.")
        raise SystemExit(2)


def _workspace(ref):
    from campaigns.models import Workspace

    qs = Workspace.objects.all()
    if ref:
        found = qs.filter(pk=int(ref)).first() if str(ref).isdigit() else qs.filter(slug=ref).first()
        if found is None:
            raise CommandError(f"No workspace '{ref}'.")
        return found
    found = list(qs[:2])
    if len(found) != 1:
        raise CommandError("Say which workspace with --workspace (there are several, or none).")
    return found[0]


def _user(username, workspace):
    from django.contrib.auth import get_user_model

    if username:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user '{username}'.")
        return user
    membership = workspace.memberships.select_related("user").order_by("pk").first()
    return membership.user if membership else None


def _image(path: Path, *, workspace, campaign, user):
    from media_assets.services import asset_create_from_file
    from media_assets.validation import MediaRejected

    if not path.is_file():
        raise CommandError(f"No such image: {path}")
    try:
        return asset_create_from_file(workspace=workspace, path=path, source="uploaded", kind="image", campaign=campaign,
                                      original_name=path.name, user=user)
    except MediaRejected as exc:
        raise CommandError(f"The image was refused: {exc}") from None


def _asset_path(asset) -> str:
    # A local file prints as its path; on S3 as its storage name.
    try:
        return asset.file.path
    except NotImplementedError:
        return asset.file.name
