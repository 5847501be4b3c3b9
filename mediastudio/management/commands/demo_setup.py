import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from campaigns.services import demo_workspace_setup


class Command(BaseCommand):
    help = "Create (or refresh) the demo workspace and its login; prints the credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username, **options):
        # The password is made once and kept under var/, so it stays the same across runs.
        login_file = Path(settings.VAR_DIR) / "demo-login.txt"
        if login_file.exists():
            password = login_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(9)
            login_file.parent.mkdir(parents=True, exist_ok=True)
            login_file.write_text(password + "\n")
            login_file.chmod(0o600)
        user, workspace = demo_workspace_setup(username=username, password=password)
        self.stdout.write(f"login: {user.username} / {password} (workspace: {workspace.name})")
