"""SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol) as Candor speaks it: pure functions
from the directory's JSON to accounts and groups and back, with no I/O.

Candor publishes only the attributes it keeps (a directory, and a conformance tester,
reads ``/Schemas`` to learn what round-trips), and ignores the others a directory sends
(passwords, phone numbers, the enterprise extension): an attribute that Candor would
silently drop must not be advertised. Attribute names are matched without regard to
case (RFC 7643 §2.1), and PATCH is applied to the resource as it would be returned, which
is then written as a whole, so PATCH, PUT and POST share one validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

DEFAULT_COUNT = 100
MAX_COUNT = 500


class ScimError(Exception):
    """An RFC 7644 §3.12 error: HTTP status, optional ``scimType`` and a detail."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


# Attribute definitions ---------------------------------------------------------------


@dataclass(frozen=True)
class Attr:
    name: str
    type: str = "string"
    multi: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    uniqueness: str = "none"
    description: str = ""
    sub: tuple[Attr, ...] = ()
    reference_types: tuple[str, ...] = ()
    canonical_values: tuple[str, ...] = ()

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name, "type": self.type, "multiValued": self.multi, "description": self.description,
            "required": self.required, "caseExact": self.case_exact, "mutability": self.mutability,
            "returned": "default", "uniqueness": self.uniqueness,
        }
        if self.sub:
            doc["subAttributes"] = [s.document() for s in self.sub]
        if self.reference_types:
            doc["referenceTypes"] = list(self.reference_types)
        if self.canonical_values:
            doc["canonicalValues"] = list(self.canonical_values)
        return doc


USER_ATTRS = (
    Attr("userName", required=True, uniqueness="server",
         description="Unique identifier for the user, typically what they sign in with."),
    Attr("name", type="complex", description="The components of the user's name.", sub=(
        Attr("formatted", description="The full name, formatted for display."),
        Attr("familyName", description="The family name."),
        Attr("givenName", description="The given name."),
    )),
    Attr("displayName", description="The name shown for the user in Candor."),
    Attr("emails", type="complex", multi=True, description="Email addresses; the primary one is the account's.", sub=(
        Attr("value", description="The email address."),
        Attr("type", description="A label: work, home or other."),
        Attr("primary", type="boolean", description="Whether this is the primary address."),
    )),
    Attr("active", type="boolean", description="false deactivates the account and ends its sessions."),
    Attr("preferredLanguage", description="The user's languages, as in Accept-Language (de-CH, en;q=0.8); the "
         "first one Candor speaks is the language of the user's mail, unless the user chose one in Candor."),
)
GROUP_ATTRS = (
    Attr("displayName", required=True, uniqueness="server", description="The group's name in Candor."),
    Attr("members", type="complex", multi=True, description="The users in the group (no nested groups).", sub=(
        Attr("value", mutability="immutable", description="The id of a User."),
        Attr("$ref", type="reference", mutability="immutable", reference_types=("User",),
             description="The URI of the User."),
        Attr("type", mutability="immutable", canonical_values=("User",), description="Always User."),
    )),
)
# externalId is common to every resource (RFC 7643 §3.1), set by the directory.
EXTERNAL_ID = Attr("externalId", case_exact=True)


def _index(attrs: tuple[Attr, ...]) -> dict[str, Attr]:
    return {a.name.lower(): a for a in (*attrs, EXTERNAL_ID)}


_USER_INDEX = _index(USER_ATTRS)
_GROUP_INDEX = _index(GROUP_ATTRS)


# Discovery documents (RFC 7644 §4) ---------------------------------------------------


def service_provider_config(base: str) -> dict[str, Any]:
    """What is supported, truthfully: PATCH and filtering yes; bulk, sorting,
    ETags and password changes no."""
    return {
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_COUNT},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "Bearer token",
            "description": "A token an admin creates on Candor's admin page (Groups → Directory provisioning).",
            "primary": True,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base}/ServiceProviderConfig"},
    }


def resource_types(base: str) -> list[dict[str, Any]]:
    return [
        {"schemas": [RESOURCE_TYPE_SCHEMA], "id": name, "name": name, "endpoint": f"/{name}s",
         "description": description, "schema": schema, "schemaExtensions": [],
         "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/{name}"}}
        for name, schema, description in (
            ("User", USER_SCHEMA, "A Candor account"),
            ("Group", GROUP_SCHEMA, "A group of accounts, usable as a survey wave's audience"),
        )
    ]


def schemas(base: str) -> list[dict[str, Any]]:
    return [
        {"schemas": [SCHEMA_SCHEMA], "id": urn, "name": name, "description": description,
         "attributes": [a.document() for a in attrs],
         "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{urn}"}}
        for urn, name, description, attrs in (
            (USER_SCHEMA, "User", "User Account", USER_ATTRS),
            (GROUP_SCHEMA, "Group", "Group", GROUP_ATTRS),
        )
    ]


def find(documents: list[dict[str, Any]], document_id: str, what: str) -> dict[str, Any]:
    """The discovery document with this id, or a 404."""
    for document in documents:
        if document["id"] == document_id:
            return document
    raise ScimError(404, f"No {what} {document_id}")


def list_response(resources: list[dict[str, Any]], *, total: int, start_index: int) -> dict[str, Any]:
    return {"schemas": [LIST_SCHEMA], "totalResults": total, "itemsPerPage": len(resources),
            "startIndex": start_index, "Resources": resources}


# Reading resources the directory sends -------------------------------------------------


def _strip_urn(path: str, schema: str) -> str:
    prefix = schema.lower() + ":"
    return path[len(prefix):] if path.lower().startswith(prefix) else path


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ScimError(400, f"{field} must be a string", "invalidValue")
    return value


def _boolean(value: Any, field: str) -> bool:
    # Some directories (Entra ID among them) send booleans as the strings "True"/"False".
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ScimError(400, f"{field} must be a boolean", "invalidValue")
    return value


def _value(attr: Attr, value: Any, field: str) -> Any:
    """One (single) value of ``attr``, canonically named; ``None`` for an empty value."""
    if value is None:
        return None
    if attr.type == "boolean":
        return _boolean(value, field)
    if attr.type == "complex":
        if not isinstance(value, dict):
            raise ScimError(400, f"{field} must be an object", "invalidValue")
        subs = {s.name.lower(): s for s in attr.sub}
        out = {}
        for key, sub_value in value.items():
            sub = subs.get(str(key).lower())
            if sub is not None and (v := _value(sub, sub_value, f"{field}.{sub.name}")) is not None:
                out[sub.name] = v
        return out or None
    return _string(value, field)


def _attribute(attr: Attr, value: Any) -> Any:
    if not attr.multi:
        return _value(attr, value, attr.name)
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    items = [_value(attr, v, attr.name) for v in value]
    return [i for i in items if i is not None]


def canonical(resource: Any, index: dict[str, Attr], schema: str) -> dict[str, Any]:
    """The attributes Candor keeps, canonically named and typed; the rest is ignored."""
    if not isinstance(resource, dict):
        raise ScimError(400, "The body must be a JSON object", "invalidSyntax")
    out: dict[str, Any] = {}
    for key, value in resource.items():
        attr = index.get(_strip_urn(str(key), schema).lower())
        if attr is not None:
            out[attr.name] = _attribute(attr, value)
    return {k: v for k, v in out.items() if v not in (None, [])}


def canonical_user(resource: Any) -> dict[str, Any]:
    return canonical(resource, _USER_INDEX, USER_SCHEMA)


def canonical_group(resource: Any) -> dict[str, Any]:
    return canonical(resource, _GROUP_INDEX, GROUP_SCHEMA)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class UserWrite:
    """A user as the directory wrote it, and what its account is derived to be."""

    user_name: str
    external_id: str | None
    display_name: str | None
    name: dict[str, Any] | None
    emails: list[dict[str, Any]]
    active: bool | None
    email: str | None  # None: the directory gave no address; the account gets a placeholder
    account_name: str
    preferred_language: str | None = None


def user_write(resource: dict[str, Any]) -> UserWrite:
    """Validate a canonical user and derive the account: its email is the primary (else
    the first) address, else the userName when that is an address; its name the
    displayName, else the name's parts, else the userName."""
    user_name = resource.get("userName", "").strip()
    if not user_name:
        raise ScimError(400, "userName is required", "invalidValue")
    if len(user_name) > 320:
        raise ScimError(400, "userName is longer than 320 characters", "invalidValue")
    if len(resource.get("preferredLanguage") or "") > 200:
        raise ScimError(400, "preferredLanguage is longer than 200 characters", "invalidValue")
    emails: list[dict[str, Any]] = resource.get("emails", [])
    if sum(1 for e in emails if e.get("primary")) > 1:
        raise ScimError(400, "At most one email may be primary", "invalidValue")
    addresses = [e["value"] for e in sorted(emails, key=lambda e: not e.get("primary")) if e.get("value")]
    candidates = [*addresses, user_name]
    email = next((c.strip().lower() for c in candidates if _EMAIL.match(c.strip())), None)
    name = resource.get("name")
    parts = " ".join(p for p in ((name or {}).get("givenName"), (name or {}).get("familyName")) if p)
    account_name = resource.get("displayName") or (name or {}).get("formatted") or parts or user_name
    return UserWrite(
        user_name=user_name, external_id=resource.get("externalId"), display_name=resource.get("displayName"),
        name=name, emails=emails, active=resource.get("active"), email=email, account_name=account_name[:200],
        preferred_language=resource.get("preferredLanguage"),
    )


@dataclass(frozen=True)
class GroupWrite:
    display_name: str
    external_id: str | None
    members: list[UUID]


def group_write(resource: dict[str, Any]) -> GroupWrite:
    display_name = resource.get("displayName", "").strip()
    if not display_name:
        raise ScimError(400, "displayName is required", "invalidValue")
    if len(display_name) > 200:
        raise ScimError(400, "displayName is longer than 200 characters", "invalidValue")
    members: list[UUID] = []
    for member in resource.get("members", []):
        if str(member.get("type", "User")).lower() != "user":
            raise ScimError(400, "Only Users can be members; Candor has no nested groups", "invalidValue")
        value = member.get("value") or str(member.get("$ref", "")).rsplit("/", 1)[-1]
        try:
            members.append(UUID(value))
        except ValueError:
            raise ScimError(400, f"members: {value!r} is not the id of a User", "invalidValue") from None
    return GroupWrite(display_name=display_name, external_id=resource.get("externalId"),
                      members=list(dict.fromkeys(members)))


# Writing resources for the directory --------------------------------------------------


def meta(resource_type: str, location: str, created: Any, modified: Any) -> dict[str, Any]:
    return {"resourceType": resource_type, "created": created.isoformat(), "lastModified": modified.isoformat(),
            "location": location}


def user_resource(user: Any, base: str) -> dict[str, Any]:
    """``user`` is a ``service.queries.scim.ScimUser``; unassigned attributes are omitted."""
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA], "id": str(user.id), "externalId": user.external_id, "userName": user.user_name,
        "name": user.name, "displayName": user.display_name, "emails": user.emails or None, "active": user.active,
        "preferredLanguage": user.preferred_language,
        "meta": meta("User", user_location(base, user.id), user.created_at, user.updated_at),
    }
    return {k: v for k, v in resource.items() if v is not None}


def user_location(base: str, account_id: UUID) -> str:
    return f"{base}/Users/{account_id}"


def group_resource(group: Any, base: str) -> dict[str, Any]:
    """``group`` is a ``service.queries.scim.ScimGroup``."""
    members = [{"value": str(m), "$ref": user_location(base, m), "type": "User"} for m in group.members]
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA], "id": str(group.id), "externalId": group.external_id,
        "displayName": group.display_name, "members": members or None,
        "meta": meta("Group", f"{base}/Groups/{group.id}", group.created_at, group.updated_at),
    }
    return {k: v for k, v in resource.items() if v is not None}


_ALWAYS = frozenset({"schemas", "id"})


def _names(text: str | None, schema: str) -> set[str]:
    if not text:
        return set()
    return {_strip_urn(p.strip(), schema).split(".", 1)[0].lower() for p in text.split(",") if p.strip()}


def project(resource: dict[str, Any], schema: str, *, attributes: str | None, excluded: str | None) -> dict[str, Any]:
    """``attributes`` / ``excludedAttributes`` (RFC 7644 §3.4.2.5), at the top level:
    asking for ``name.givenName`` returns the whole ``name``."""
    wanted, dropped = _names(attributes, schema), _names(excluded, schema)
    if wanted:
        return {k: v for k, v in resource.items() if k in _ALWAYS or k.lower() in wanted}
    return {k: v for k, v in resource.items() if k in _ALWAYS or k.lower() not in dropped}


# Filters (RFC 7644 §3.4.2.2): equality on a few attributes, joined by "and" ----------

_COMPARISON = re.compile(
    r'\s*(?P<attr>[A-Za-z][\w$:.\-]*)\s+eq\s+(?P<value>"(?:[^"\\]|\\.)*"|true|false|null)\s*', re.IGNORECASE
)


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def comparisons(text: str) -> list[tuple[str, str]]:
    """``attr eq "value" [and …]`` as (attribute, value) pairs; anything else is refused."""
    pairs = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _COMPARISON.fullmatch(part)
        if match is None:
            raise ScimError(400, f"Unsupported filter {text!r}: only 'attribute eq \"value\"' joined by 'and'",
                            "invalidFilter")
        pairs.append((match["attr"], _unquote(match["value"])))
    return pairs


def parse_filter(text: str | None, allowed: tuple[str, ...], schema: str) -> dict[str, str] | None:
    """The filter as {attribute: value}; ``None`` when two conditions on one attribute
    disagree (nothing can match)."""
    if not text:
        return {}
    names = {a.lower(): a for a in allowed}
    equals: dict[str, str] = {}
    for attr, value in comparisons(text):
        name = names.get(_strip_urn(attr, schema).lower())
        if name is None:
            raise ScimError(400, f"Filtering on {attr!r} is not supported; use one of {', '.join(allowed)}",
                            "invalidFilter")
        if equals.get(name, value) != value:
            return None
        equals[name] = value
    return equals


def page(start_index: int | None, count: int | None) -> tuple[int, int]:
    """(offset, limit) of a 1-based ``startIndex`` and a ``count`` (RFC 7644 §3.4.2.4)."""
    start = max(1, start_index or 1)
    limit = DEFAULT_COUNT if count is None else max(0, min(count, MAX_COUNT))
    return start - 1, limit


# PATCH (RFC 7644 §3.5.2) ------------------------------------------------------------

_PATH = re.compile(r'^(?P<attr>[^\[\].]+)(?:\[(?P<filter>[^\]]*)\])?(?:\.(?P<sub>[^\[\].]+))?$')


@dataclass(frozen=True)
class _Target:
    attr: Attr
    matches: Callable[[dict[str, Any]], bool] | None
    sub: Attr | None
    conditions: tuple[tuple[str, str], ...] = ()


def _target(path: str, index: dict[str, Attr], schema: str) -> _Target:
    match = _PATH.match(_strip_urn(path.strip(), schema))
    attr = index.get(match["attr"].lower()) if match else None
    if match is None or attr is None:
        raise ScimError(400, f"The path {path!r} names no attribute Candor keeps", "invalidPath")
    sub = None
    if match["sub"]:
        sub = {s.name.lower(): s for s in attr.sub}.get(match["sub"].lower())
        if sub is None:
            raise ScimError(400, f"{attr.name} has no sub-attribute {match['sub']!r}", "invalidPath")
    matches: Callable[[dict[str, Any]], bool] | None = None
    conditions: list[tuple[str, str]] = []
    if match["filter"] is not None:
        if not attr.multi:
            raise ScimError(400, f"{attr.name} is not multi-valued; it cannot take a filter", "invalidPath")
        subs = {s.name.lower(): s.name for s in attr.sub}
        for name, value in comparisons(match["filter"]):
            if name.lower() not in subs:
                raise ScimError(400, f"{attr.name} has no sub-attribute {name!r}", "invalidFilter")
            conditions.append((subs[name.lower()], value))

        def matching(item: dict[str, Any], conditions: list[tuple[str, str]] = conditions) -> bool:
            return all(str(item.get(k, "")).lower() == v.lower() for k, v in conditions)

        matches = matching

    return _Target(attr=attr, matches=matches, sub=sub, conditions=tuple(conditions))


def _same(a: dict[str, Any], b: dict[str, Any], attr: Attr) -> bool:
    if "value" in {s.name for s in attr.sub}:
        return str(a.get("value", "")).lower() == str(b.get("value", "")).lower()
    return a == b


def _add_items(current: list[dict[str, Any]], new: list[dict[str, Any]], attr: Attr) -> list[dict[str, Any]]:
    out = list(current)
    for item in new:
        out = [o for o in out if not _same(o, item, attr)] + [item]
    if any(i.get("primary") for i in new):  # a new primary value demotes the old one
        out = [o if o in new else {k: v for k, v in o.items() if k != "primary"} for o in out]
    return out


def _apply(resource: dict[str, Any], op: str, target: _Target, value: Any) -> None:
    attr, name = target.attr, target.attr.name
    if target.matches is not None:  # attr[filter] or attr[filter].sub
        items = resource.get(name, [])
        hit = [i for i in items if target.matches(i)]
        if op == "remove":
            if target.sub is None:
                resource[name] = [i for i in items if not target.matches(i)]
            else:
                for i in hit:
                    i.pop(target.sub.name, None)
            return
        if target.sub is not None:
            sub_value = _value(target.sub, value, f"{name}.{target.sub.name}")
            if not hit:
                # Entra ID sets emails[type eq "work"].value on a user with no work address:
                # the value the filter describes is created.
                resource[name] = [*items, _value(attr, {**dict(target.conditions), target.sub.name: sub_value}, name)]
                return
            for i in hit:
                i[target.sub.name] = sub_value
            return
        if not hit:
            raise ScimError(400, f"No value of {name} matches the path's filter", "noTarget")
        replacement = _value(attr, value, name)
        resource[name] = [replacement if i in hit else i for i in items]
        return
    if target.sub is not None:  # name.givenName
        if attr.multi:
            raise ScimError(400, f"{name} is multi-valued: name the values with a filter", "invalidPath")
        current = dict(resource.get(name) or {})
        if op == "remove":
            current.pop(target.sub.name, None)
        else:
            current[target.sub.name] = _value(target.sub, value, f"{name}.{target.sub.name}")
        resource[name] = current or None
        return
    if op == "remove":
        if attr.required:
            raise ScimError(400, f"{name} is required; it cannot be removed", "mutability")
        if attr.multi and value is not None:  # remove the listed values (Entra ID: members)
            gone = _attribute(attr, value)
            resource[name] = [i for i in resource.get(name, []) if not any(_same(i, g, attr) for g in gone)]
        else:
            resource.pop(name, None)
        return
    new = _attribute(attr, value)
    if attr.multi and op == "add":
        resource[name] = _add_items(resource.get(name, []), new, attr)
    elif attr.type == "complex" and not attr.multi and op == "add":
        resource[name] = {**(resource.get(name) or {}), **(new or {})}
    else:
        resource[name] = new


def apply_patch(resource: dict[str, Any], body: Any, index: dict[str, Attr], schema: str) -> dict[str, Any]:
    """The resource (canonical attributes) after the PatchOp ``body``; all or nothing."""
    if not isinstance(body, dict):
        raise ScimError(400, "The body must be a PatchOp object", "invalidSyntax")
    body = {str(k).lower(): v for k, v in body.items()}
    operations = body.get("operations")
    if PATCH_SCHEMA not in (body.get("schemas") or []) or not isinstance(operations, list) or not operations:
        raise ScimError(400, f"A PATCH body has schemas [{PATCH_SCHEMA!r}] and a list of Operations",
                        "invalidSyntax")
    out = {k: ([dict(i) for i in v] if isinstance(v, list) else (dict(v) if isinstance(v, dict) else v))
           for k, v in resource.items()}
    for raw in operations:
        if not isinstance(raw, dict):
            raise ScimError(400, "Each operation must be an object", "invalidSyntax")
        operation = {str(k).lower(): v for k, v in raw.items()}
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "remove", "replace"):
            raise ScimError(400, f"Unknown op {operation.get('op')!r}: use add, remove or replace", "invalidSyntax")
        path, value = operation.get("path"), operation.get("value")
        if path:
            _apply(out, op, _target(_string(path, "path"), index, schema), value)
        elif op == "remove":
            raise ScimError(400, "A remove operation needs a path", "noTarget")
        elif isinstance(value, dict):
            for key, sub_value in value.items():  # keys may be paths too ("name.givenName")
                key = str(key)
                if _strip_urn(key, schema).lower() in ("schemas", "id", "meta"):
                    continue
                try:
                    target = _target(key, index, schema)
                except ScimError:
                    continue  # an attribute Candor does not keep, as on POST and PUT
                _apply(out, op, target, sub_value)
        else:
            raise ScimError(400, "An operation without a path needs an object value", "invalidValue")
    return {k: v for k, v in out.items() if v not in (None, [], {})}


def patch_user(resource: dict[str, Any], body: Any) -> dict[str, Any]:
    return apply_patch(resource, body, _USER_INDEX, USER_SCHEMA)


def patch_group(resource: dict[str, Any], body: Any) -> dict[str, Any]:
    return apply_patch(resource, body, _GROUP_INDEX, GROUP_SCHEMA)
