"""JSON shapes of the API's resources."""

from app.models import Deployment, Project
from app.pipeline.state import queue_position
from app.sites import live_url, site_url


def project_json(project: Project) -> dict:
    data = project.to_dict()
    data["url"] = live_url(project) if project.live_deployment_id else None
    return data


def deployment_json(deployment: Deployment) -> dict:
    deployed = deployment.status == "deployed" and deployment.pruned_at is None
    project = deployment.project
    return {
        "id": deployment.id,
        "project_id": deployment.project_id,
        "status": deployment.status.value,
        "step": deployment.step,
        "error": deployment.error_code,
        "error_message": deployment.error_message,
        "branch": deployment.branch,
        "commit_sha": deployment.commit_sha,
        "commit_message": deployment.commit_message,
        "commit_author": deployment.commit_author,
        "task_id": deployment.task_id,
        "worker_id": deployment.worker_id,
        "created_at": _iso(deployment.created_at),
        "started_at": _iso(deployment.started_at),
        "finished_at": _iso(deployment.finished_at),
        "duration": deployment.duration,
        "step_durations": deployment.step_durations or {},
        "detected": deployment.detected or {},
        "file_count": deployment.file_count,
        "total_bytes": deployment.total_bytes,
        "is_live": deployment.is_live,
        "diff": deployment.diff,
        "held_reason": deployment.held_reason,
        "files_deleted_at": _iso(deployment.pruned_at),
        "queue_position": queue_position(deployment),
        "url": site_url(project.slug, deployment.id) if deployed else None,
        "live_url": live_url(project) if deployment.is_live else None,
    }


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None
