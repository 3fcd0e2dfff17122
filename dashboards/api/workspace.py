"""Which workspace an API request is about: `?workspace=<id>`, or the only one there is."""

from events.api.errors import ApiError
from workspaces.models import Workspace


def api_workspace(value: object) -> Workspace:
    """The named workspace; with none named, the only workspace, else 400 asking for one."""
    if value not in (None, ""):
        if not str(value).isdigit():
            raise ApiError(400, "invalid", "workspace must be a workspace id", field="workspace")
        workspace = Workspace.objects.filter(pk=int(value)).first()
        if workspace is None:
            raise ApiError(404, "not_found", "no such workspace", field="workspace")
        return workspace
    workspaces = list(Workspace.objects.order_by("pk")[:2])
    if len(workspaces) != 1:
        raise ApiError(400, "workspace_required", "name the workspace: ?workspace=<id>", field="workspace")
    return workspaces[0]
