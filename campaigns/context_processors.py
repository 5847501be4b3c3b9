from campaigns.selectors import workspace_list


def workspaces(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "workspaces": workspace_list(user=user),
        "current_workspace": getattr(request, "workspace", None),
        "can_write": bool(membership and membership.can_write),
    }
