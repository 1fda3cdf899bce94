"""The OpenAPI document as a readable page (rendered on the server: no script, no CDN).

:func:`readable` turns the document into plain lists for ``templates/api/docs.html``:
operations grouped by tag, each with its parameters, request body and responses, and every
schema of ``components`` with its properties (``$ref`` shown as a link to the schema).
"""

from __future__ import annotations

from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any] | None) -> str:
    """A short type: ``string (date)``, ``array of Finding``, ``Finding``, ``object``."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "array of " + type_of(schema.get("items"))
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return "object of " + (type_of(extra) if isinstance(extra, dict) else "any")
    if schema.get("format"):
        kind = f"{kind} ({schema['format']})"
    if schema.get("enum"):
        kind += ": " + " | ".join(str(v) for v in schema["enum"])
    return str(kind)


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key, word in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"),
                      ("maxLength", "length ≤"), ("pattern", "pattern"), ("default", "default")):  # fmt: skip
        if key in schema:
            parts.append(f"{word} {schema[key]}")
    if schema.get("nullable"):
        parts.append("may be null")
    return ", ".join(parts)


def _body(content: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"content_type": ctype, "type": type_of(media.get("schema"))}
        for ctype, media in content.items()
    ]


def readable(spec: dict[str, Any]) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [
                {
                    "name": p["name"],
                    "in": p["in"],
                    "required": bool(p.get("required")),
                    "type": type_of(p.get("schema")),
                    "constraints": _constraints(p.get("schema", {})),
                    "description": p.get("description", ""),
                }
                for p in [*shared, *op.get("parameters", [])]
            ]
            security = op.get("security")
            scopes = list(op.get("x-scopes", []))
            body = op.get("requestBody")
            groups.setdefault((op.get("tags") or ["other"])[0], []).append(
                {
                    "anchor": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "auth": "token" if security else "none",
                    "scopes": scopes,
                    "parameters": params,
                    "body": _body(body.get("content", {})) if body else [],
                    "responses": [
                        {
                            "status": status,
                            "description": r.get("description", ""),
                            "body": _body(r.get("content", {})),
                        }
                        for status, r in sorted(op.get("responses", {}).items())
                    ],
                }
            )
    schemas = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        schemas.append(
            {
                "name": name,
                "properties": [
                    {
                        "name": prop,
                        "type": type_of(sub),
                        "required": prop in required,
                        "constraints": _constraints(sub),
                        "description": sub.get("description", ""),
                        "ref": _ref_name(sub["$ref"]) if "$ref" in sub else (
                            _ref_name(sub["items"]["$ref"])
                            if "$ref" in sub.get("items", {}) else None
                        ),
                    }
                    for prop, sub in schema.get("properties", {}).items()
                ],
            }
        )
    return {"groups": groups, "schemas": schemas}
