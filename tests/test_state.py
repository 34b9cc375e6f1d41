"""Status transitions: who may move a deployment where, and only once."""

import pytest

from app.extensions import db
from app.models import Deployment, Status
from app.models.deployment import can_transition
from app.pipeline import state


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (Status.QUEUED, Status.CLONING, True),
        (Status.CLONING, Status.BUILDING, True),
        (Status.BUILDING, Status.UPLOADING, True),
        (Status.UPLOADING, Status.DEPLOYED, True),
        (Status.BUILDING, Status.CLONING, False),
        (Status.QUEUED, Status.CANCELLED, True),
        (Status.BUILDING, Status.FAILED, True),
        (Status.DEPLOYED, Status.FAILED, False),
        (Status.CANCELLED, Status.QUEUED, False),
        (Status.FAILED, Status.DEPLOYED, False),
    ],
)
def test_statuses_only_move_forward_and_never_leave_an_end(current, new, allowed):
    assert can_transition(current, new) is allowed


def test_badge_colours_follow_the_status():
    assert Status.DEPLOYED.colour == "green"
    assert Status.FAILED.colour == Status.CANCELLED.colour == "red"
    assert {
        s.colour for s in (Status.QUEUED, Status.CLONING, Status.BUILDING, Status.UPLOADING)
    } == {"yellow"}


def reload(deployment):
    db.session.expire_all()
    return db.session.get(Deployment, deployment.id)


def test_a_cancelled_deployment_cannot_be_claimed(deployment):
    assert state.cancel_queued(deployment.id)
    assert state.claim(deployment.id, "w1") is state.Claim.GONE
    assert reload(deployment).status == Status.CANCELLED


def test_only_one_worker_claims_a_deployment(deployment):
    assert state.claim(deployment.id, "w1") is state.Claim.TAKEN
    assert state.claim(deployment.id, "w2") is state.Claim.GONE
    assert reload(deployment).worker_id == "w1"
    assert not state.cancel_queued(deployment.id)  # running: cancel must go to the worker
    assert state.request_cancel(deployment.id)
    assert reload(deployment).cancel_requested


def test_finishing_deployed_makes_it_live_in_the_same_step(deployment):
    state.claim(deployment.id, "w1")
    assert state.finish(deployment.id, Status.DEPLOYED, live_project_id=deployment.project_id)
    found = reload(deployment)
    assert found.status == Status.DEPLOYED and found.project.live_deployment_id == found.id
    assert not state.finish(deployment.id, Status.FAILED, "worker_lost", "late")
    assert reload(deployment).status == Status.DEPLOYED


def test_a_deployment_ended_elsewhere_does_not_go_live(deployment):
    state.claim(deployment.id, "w1")
    state.finish(deployment.id, Status.FAILED, "worker_lost", "gone")
    assert not state.finish(deployment.id, Status.DEPLOYED, live_project_id=deployment.project_id)
    assert reload(deployment).project.live_deployment_id is None


def add_deployment(project):
    queued = Deployment(project=project, branch="main", commit_sha="d" * 40)
    db.session.add(queued)
    db.session.commit()
    return queued


def test_a_project_limit_keeps_the_second_build_waiting(deployment):
    second = add_deployment(deployment.project)
    assert state.claim(deployment.id, "w1", project_limit=1) is state.Claim.TAKEN
    assert state.claim(second.id, "w2", project_limit=1) is state.Claim.WAIT
    assert state.queue_position(reload(second)) == 1
    state.finish(deployment.id, Status.DEPLOYED)
    assert state.claim(second.id, "w2", project_limit=1) is state.Claim.TAKEN
    assert state.queue_position(reload(second)) is None


def test_a_global_limit_counts_every_project(deployment):
    from app.models import Project

    other = add_deployment(Project(name="q", slug="q", repo_url="/srv/q", branch="main"))
    assert state.claim(deployment.id, "w1", global_limit=1) is state.Claim.TAKEN
    assert state.claim(other.id, "w2", global_limit=1) is state.Claim.WAIT
    assert state.claim(other.id, "w2", global_limit=2) is state.Claim.TAKEN
    assert state.claim(other.id, "w3") is state.Claim.GONE


def test_a_status_never_moves_backwards_in_the_database(deployment):
    state.claim(deployment.id, "w1")
    assert state.advance(deployment.id, Status.UPLOADING, "upload")
    assert not state.advance(deployment.id, Status.BUILDING, "build")
    assert reload(deployment).status == Status.UPLOADING


def test_simultaneous_claims_respect_the_project_limit(app, deployment):
    """Eight consumers claim eight deployments of one project at the same instant."""
    import threading

    ids = [deployment.id] + [add_deployment(deployment.project).id for _ in range(7)]
    barrier = threading.Barrier(len(ids))
    outcomes = []

    def claim(deployment_id: int, worker: str) -> None:
        with app.app_context():
            barrier.wait()
            outcomes.append(state.claim(deployment_id, worker, project_limit=1))
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(i, f"w{i}")) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.value for o in outcomes) == ["taken"] + ["wait"] * 7
