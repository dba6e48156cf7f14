"""The pure SCIM functions: filters, PATCH on a resource, the derived account."""

from __future__ import annotations

import pytest

from service.scim import (
    PATCH_SCHEMA,
    USER_SCHEMA,
    ScimError,
    canonical_user,
    page,
    parse_filter,
    patch_group,
    patch_user,
    user_write,
)

USERS = ("userName", "externalId", "displayName", "id")


def ops(*operations: dict) -> dict:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def test_filters_are_equality_joined_by_and():
    assert parse_filter('userName eq "a\\"b"', USERS, USER_SCHEMA) == {"userName": 'a"b'}
    assert parse_filter(f'{USER_SCHEMA}:USERNAME eq "x" and externalId eq "y"', USERS, USER_SCHEMA) == {
        "userName": "x", "externalId": "y"}
    assert parse_filter('userName eq "x" and userName eq "y"', USERS, USER_SCHEMA) is None
    for unsupported in ('userName co "x"', 'emails.value eq "x"', 'userName eq "x" or userName eq "y"', "userName"):
        with pytest.raises(ScimError) as refused:
            parse_filter(unsupported, USERS, USER_SCHEMA)
        assert refused.value.scim_type == "invalidFilter"


def test_paging_is_one_based_and_bounded():
    assert page(None, None) == (0, 100)
    assert page(0, 10_000) == (0, 500)
    assert page(11, -3) == (10, 0)


def test_attribute_names_are_case_insensitive_and_unknown_ones_ignored():
    user = canonical_user({"USERNAME": "ada", "Emails": [{"VALUE": "a@x.org", "Primary": "true"}], "password": "p",
                           "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "x"}})
    assert user == {"userName": "ada", "emails": [{"value": "a@x.org", "primary": True}]}


def test_the_account_is_derived_from_the_directory():
    derived = user_write(canonical_user({"userName": "ADA@X.org", "name": {"givenName": "Ada", "familyName": "L"}}))
    assert (derived.email, derived.account_name, derived.active) == ("ada@x.org", "Ada L", None)
    with_primary = user_write(canonical_user({"userName": "ada", "emails": [
        {"value": "home@x.org"}, {"value": "Work@X.org", "primary": True}]}))
    assert with_primary.email == "work@x.org"
    assert user_write(canonical_user({"userName": "ada"})).email is None
    with pytest.raises(ScimError):
        user_write(canonical_user({"userName": "a", "emails": [{"value": "a@x", "primary": True},
                                                                {"value": "b@x", "primary": True}]}))


def test_patch_forms_the_directories_send():
    user = {"userName": "ada", "emails": [{"value": "a@x.org", "type": "home"}]}
    patched = patch_user(user, ops(
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "w@x.org"},
        {"op": "replace", "value": {"name.givenName": "Ada", "active": "False", "unknown": 1}},
        {"op": "remove", "path": 'emails[type eq "home"]'}))
    assert patched == {"userName": "ada", "emails": [{"type": "work", "value": "w@x.org"}],
                       "name": {"givenName": "Ada"}, "active": False}
    assert user == {"userName": "ada", "emails": [{"value": "a@x.org", "type": "home"}]}, "the input is left alone"
    group = {"displayName": "G", "members": [{"value": "1"}, {"value": "2"}]}
    assert patch_group(group, ops({"op": "remove", "path": 'members[value eq "1"]'}))["members"] == [{"value": "2"}]
    assert patch_group(group, ops({"op": "add", "path": "members", "value": [{"value": "3"}, {"value": "2"}]}))[
        "members"] == [{"value": "1"}, {"value": "3"}, {"value": "2"}]
    for bad, scim_type in ((ops({"op": "move", "path": "userName"}), "invalidSyntax"),
                           (ops({"op": "remove", "path": "userName"}), "mutability"),
                           (ops({"op": "add", "path": "nickName", "value": "x"}), "invalidPath"),
                           ({"Operations": [{"op": "add"}]}, "invalidSyntax")):
        with pytest.raises(ScimError) as refused:
            patch_user(user, bad)
        assert refused.value.scim_type == scim_type
