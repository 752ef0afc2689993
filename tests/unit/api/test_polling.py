"""Status polls are cheap: ETag + If-None-Match -> 304 on the API and on the page's fragment, the cheap path
holds to the same access rule as the core, and queue places come from one scan per queue."""
from datetime import timedelta

import pytest

from gradeflow_api.polling import QueuePositions, VerifiedTokens, not_modified, peek
from gradeflow_api.status_watch import StatusWatch, read_watched
from gradeflow_core import access
from gradeflow_core.grading import queue_position
from gradeflow_core.models import AssignmentVersion, Course, Enrollment, User, utcnow
from gradeflow_core.security import make_user_token
from gradeflow_protocol.enums import Role, SubmissionStatus
from tests.db_helpers import add_submission
from tests.unit.api.test_api import SECRET, api, login  # noqa: F401  (fixture)
from tests.unit.api.web.test_pages import app, client, csrf_of, sign_in  # noqa: F401  (fixtures)


def _upload(client, headers) -> int:
    r = client.post("/api/v1/assignments/1/submissions", headers=headers, files={"file": ("a.py", b"answer = 42\n")})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_an_unchanged_submission_is_a_304_without_a_body_until_it_changes(api):
    client, queue, app = api
    alice = login(client, "alice")
    sid = _upload(client, alice)
    first = client.get(f"/api/v1/submissions/{sid}", headers=alice)
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('W/"')
    assert first.headers["cache-control"] == "private, no-cache"
    again = client.get(f"/api/v1/submissions/{sid}", headers=alice | {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(f"/api/v1/submissions/{sid}", headers=alice | {"If-None-Match": f'"x", {etag}'}).status_code == 304

    task, _ = queue.sent[0]
    assert client.post("/api/v1/worker/claim", json={"worker": "w"},
                       headers={"Authorization": f"Bearer {task.token}"}).status_code == 200
    changed = client.get(f"/api/v1/submissions/{sid}", headers=alice | {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["status"] == "running"  # seen at once, no refresh waited
    assert changed.headers["etag"] != etag
    assert client.get(f"/api/v1/submissions/{sid}", headers=alice).json()["status"] == "running"


def test_an_etag_opens_nothing_to_someone_who_may_not_read_it(api):
    client, _, _ = api
    alice, bob, tina = login(client, "alice"), login(client, "bob"), login(client, "tina")
    sid = _upload(client, alice)
    etag = client.get(f"/api/v1/submissions/{sid}", headers=alice).headers["etag"]
    assert client.get(f"/api/v1/submissions/{sid}", headers=bob | {"If-None-Match": etag}).status_code == 404
    assert client.get(f"/api/v1/submissions/{sid}", headers={"If-None-Match": etag}).status_code == 401
    assert client.get(f"/api/v1/submissions/{sid}", headers={"If-None-Match": etag,
                                                            "Authorization": "Bearer nope"}).status_code == 401
    staff = client.get(f"/api/v1/submissions/{sid}", headers=tina | {"If-None-Match": etag})
    assert staff.status_code == 200 and "log" in staff.json()  # the staff view is another answer
    assert staff.headers["cache-control"] == "no-store" and staff.headers["etag"] != etag
    assert client.get(f"/api/v1/submissions/{sid}", headers=tina | {"If-None-Match": staff.headers["etag"]}
                      ).status_code == 304


def test_the_status_fragment_answers_304_while_nothing_shown_changes(client):
    sign_in(client, "alice")
    token = csrf_of(client.get("/assignments/1").text)
    client.post("/assignments/1/submissions", files={"file": ("a.py", b"answer = 42\n")}, data={"csrf_token": token})
    first = client.get("/submissions/1/status")
    assert first.status_code == 200 and "number 1" in first.text and "data-since=" in first.text
    assert first.headers["cache-control"] == "private, no-cache"  # the browser revalidates (htmx polls via XHR)
    again = client.get("/submissions/1/status", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_if_none_match_parsing():
    assert not_modified('W/"a"', 'W/"a"') and not_modified('"a"', 'W/"a"') and not_modified("*", 'W/"a"')
    assert not_modified('"b", W/"a"', 'W/"a"')
    assert not not_modified(None, 'W/"a"') and not not_modified('"b"', 'W/"a"') and not not_modified("", 'W/"a"')


def test_verified_tokens_are_checked_once_and_only_until_they_expire():
    tokens = VerifiedTokens(SECRET)
    good = make_user_token(user_id=7, secret=SECRET, minutes=5)
    assert tokens.user_id(good) == 7 and tokens.user_id(good) == 7
    assert tokens.user_id(make_user_token(user_id=7, secret="another-secret-0123456789abcdefg", minutes=5)) is None
    assert tokens.user_id(make_user_token(user_id=7, secret=SECRET, minutes=-1)) is None
    assert tokens.user_id("not.a.token") is None and tokens.user_id(None) is None
    tokens._known[good] = (7, 0.0)  # as if its expiry had passed since it was cached
    assert tokens.user_id(good) == 7 and tokens._known[good][1] > 0  # verified again, not trusted blindly


@pytest.fixture
def world(api):
    _, _, app = api
    session = app.state.session_factory()
    users = {u.username: u for u in session.query(User)}
    course = session.query(Course).one()
    users["admin"] = User(username="admin", is_admin=True)
    users["leaver"] = User(username="leaver")
    other = Course(slug="c2", title="Other")
    session.add_all([users["admin"], users["leaver"], other])
    session.flush()
    session.add(Enrollment(user_id=users["leaver"].id, course_id=other.id, role=Role.TA))  # staff elsewhere only
    yield app, session, users, course
    session.close()


def test_the_cheap_path_grants_exactly_what_the_core_grants(world):
    app, session, users, _ = world
    version = session.query(AssignmentVersion).first()
    own = {name: add_submission(session, user=users[name], version=version) for name in ("alice", "leaver")}
    session.commit()
    pairs = [(sub.id, user.id) for sub in own.values() for user in users.values()] + [(own["alice"].id, 10_000)]
    watched = read_watched(app.state.engine, pairs)  # the status watch's batched read applies the same rule
    for sub in own.values():
        for user in users.values():
            core = access.submission_access(session, user=user, submission=sub)
            cheap = peek(app.state.engine, submission_id=sub.id, user_id=user.id)
            if isinstance(core, access.Denied):
                assert cheap is None and (sub.id, user.id) not in watched, (user.username, sub.user_id)
            else:
                assert cheap is not None and cheap[1] == core.staff_view, (user.username, sub.user_id)
                assert watched[(sub.id, user.id)] == cheap
    assert len(watched) == sum(not isinstance(access.submission_access(session, user=u, submission=s), access.Denied)
                               for s in own.values() for u in users.values())
    assert peek(app.state.engine, submission_id=own["alice"].id, user_id=10_000) is None  # no such caller
    assert peek(app.state.engine, submission_id=10_000, user_id=users["alice"].id) is None


def test_queue_places_come_from_one_scan_and_match_the_exact_count(world):
    app, session, users, _ = world
    version = session.query(AssignmentVersion).first()
    start = utcnow() - timedelta(minutes=5)
    subs = []
    for minutes, priority in ((0, 3), (1, 0), (2, 0), (3, 6), (4, 0)):
        sub = add_submission(session, user=users["alice"], version=version)
        sub.queued_at, sub.priority = start + timedelta(minutes=minutes), priority
        subs.append(sub)
    subs[2].status = SubmissionStatus.RUNNING
    session.commit()
    positions = QueuePositions(ttl_s=60)
    queued = [s for s in subs if s.status is SubmissionStatus.QUEUED]
    assert [positions.position(session, s) for s in queued] == [queue_position(session, s) for s in queued]
    assert [positions.position(session, s) for s in queued] == [3, 1, 4, 2]
    late = add_submission(session, user=users["bob"], version=version)  # queued after the scan: counted exactly
    session.commit()
    assert positions.position(session, late) == queue_position(session, late) == 3


def test_the_watch_answers_from_its_last_refresh_and_forgets_idle_pairs(world):
    app, session, users, _ = world
    version = session.query(AssignmentVersion).first()
    sub = add_submission(session, user=users["alice"], version=version)
    session.commit()
    watch = StatusWatch(app.state.engine, interval_s=60, idle_s=60)
    alice = users["alice"].id
    assert watch.lookup(sub.id, alice) is None  # not read yet
    watch.refresh()
    first = watch.lookup(sub.id, alice)
    assert first == peek(app.state.engine, submission_id=sub.id, user_id=alice)
    sub.progress = "cell 2 of 5"
    session.commit()
    assert watch.lookup(sub.id, alice) == first  # memory, until the next refresh
    watch.refresh()
    assert watch.lookup(sub.id, alice) != first
    watch.idle_s = 0
    watch._polled[(sub.id, alice)] -= 1  # nobody asked for a while
    watch.refresh()
    assert watch._polled == {} and watch._known == {}
    watch.idle_s = 60
    watch.lookup(sub.id, alice)
    watch.refresh()
    watch.changed([sub.id])  # committed by this process: not trusted until the next refresh
    assert watch.lookup(sub.id, alice) is None
    watch.refresh()
    assert watch.lookup(sub.id, alice) is not None
    watch._refreshed_at -= 1000  # the refresh thread stopped: memory is not trusted
    watch.remember(sub.id, alice, first)
    assert watch.lookup(sub.id, alice) is None


def test_the_watch_reads_again_a_slice_at_a_time(world):
    app, session, users, _ = world
    version = session.query(AssignmentVersion).first()
    subs = [add_submission(session, user=users["alice"], version=version) for _ in range(2)]
    session.commit()
    watch = StatusWatch(app.state.engine, interval_s=60)
    alice = users["alice"].id
    for sub in subs:
        watch.lookup(sub.id, alice)
    watch.refresh()
    before = [watch.lookup(sub.id, alice) for sub in subs]
    for sub in subs:
        sub.progress = "cell 4 of 5"
    session.commit()
    even, odd = sorted(subs, key=lambda sub: sub.id % 2)
    watch.refresh(even.id % 2, 2, roles=False)  # only the even ids are read again
    assert watch.lookup(even.id, alice) != before[subs.index(even)]
    assert watch.lookup(odd.id, alice) == before[subs.index(odd)]
    watch.refresh(odd.id % 2, 2, roles=False)
    assert watch.lookup(odd.id, alice) == peek(app.state.engine, submission_id=odd.id, user_id=alice)


def test_the_shortcut_answers_a_current_etag_before_any_route_and_passes_the_rest_on():
    import asyncio
    from types import SimpleNamespace

    from gradeflow_api.status_watch import PollShortcut

    class Watch:
        def lookup(self, submission_id, user_id):
            return ('W/"now"', False) if (submission_id, user_id) == (5, 7) else None

    reached = []

    async def route(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    app = PollShortcut(route, state=SimpleNamespace(verified_tokens=VerifiedTokens(SECRET), status_watch=Watch()))
    token = make_user_token(user_id=7, secret=SECRET, minutes=5)

    def call(path, *, method="GET", etag='W/"now"', auth=f"Bearer {token}"):
        sent = []
        headers = [(b"if-none-match", etag.encode())] if etag else []
        headers += [(b"authorization", auth.encode())] if auth else []

        async def send(message):
            sent.append(message)

        asyncio.run(app({"type": "http", "method": method, "path": path, "headers": headers}, None, send))
        return sent[0]["status"], dict(sent[0]["headers"])

    status, headers = call("/api/v1/submissions/5")
    assert status == 304 and headers[b"etag"] == b'W/"now"' and reached == []
    assert headers[b"cache-control"] == b"private, no-cache"
    for kwargs in ({"etag": 'W/"old"'}, {"etag": ""}, {"auth": ""}, {"auth": "Bearer nope"}, {"method": "POST"}):
        assert call("/api/v1/submissions/5", **kwargs)[0] == 200
    assert call("/api/v1/submissions/6")[0] == 200 and call("/api/v1/submissions/5/x")[0] == 200
    assert len(reached) == 7
