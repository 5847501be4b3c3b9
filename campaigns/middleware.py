from __future__ import annotations

from campaigns.selectors import membership_get, workspace_list


class CurrentWorkspaceMiddleware:
    """Sets request.workspace and request.membership from the session's choice (checked against
    the user's memberships), falling back to the user's first workspace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.workspace = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = membership_get(user=user, workspace_id=request.session.get("workspace_id"))
            if membership is None:
                first = workspace_list(user=user).first()
                membership = membership_get(user=user, workspace_id=first.pk) if first else None
                if membership is not None:
                    request.session["workspace_id"] = membership.workspace_id
            if membership is not None:
                request.workspace = membership.workspace
                request.membership = membership
        return self.get_response(request)
