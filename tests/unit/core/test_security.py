from gradeflow_core.security import (hash_password, make_attempt_token, make_user_token, read_attempt_token,
                                     read_user_token, verify_password)

A, B, K = "a" * 32, "b" * 32, "k" * 32


def test_password_hash_roundtrip():
    digest = hash_password("s3cret")
    assert verify_password("s3cret", digest)
    assert not verify_password("wrong", digest)
    assert not verify_password("s3cret", "not-a-hash")


def test_user_token_needs_the_right_secret():
    token = make_user_token(user_id=7, secret=A, minutes=5)
    assert read_user_token(token, secret=A) == 7
    assert read_user_token(token, secret=B) is None
    assert read_user_token(make_user_token(user_id=7, secret=A, minutes=-1), secret=A) is None


def test_attempt_token_names_one_attempt_and_cannot_be_forged():
    token = make_attempt_token(submission_id=3, attempt=2, secret=K)
    assert read_attempt_token(token, secret=K) == (3, 2)
    assert read_attempt_token(token, secret=B) is None
    payload, _, sig = token.partition(".")
    forged = make_attempt_token(submission_id=4, attempt=2, secret=K).split(".")[0] + "." + sig
    assert read_attempt_token(forged, secret=K) is None
    assert read_attempt_token("garbage", secret=K) is None


def test_user_token_is_not_an_attempt_token():
    assert read_attempt_token(make_user_token(user_id=1, secret=K, minutes=5), secret=K) is None
