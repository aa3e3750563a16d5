"""Canvas's developer-key JSON at /lti/canvas.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import make_tool

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def canvas_json(tmp_path: Path, base_url: str) -> dict[str, Any]:
    app = make_tool({"base_url": base_url, "database_url": "sqlite://"}, tmp_path)
    try:
        response = app.test_client().get("/lti/canvas.json")
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        body: dict[str, Any] = response.get_json()
        return body
    finally:
        app.extensions["lti_tool"].close()


def test_the_urls_come_from_the_base_url(tmp_path: Path) -> None:
    config = canvas_json(tmp_path, "https://pathway.example.ac.uk/")
    assert config["title"] == "Clinical leadership pathway"
    assert config["description"]
    assert config["target_link_uri"] == "https://pathway.example.ac.uk/lti/launch"
    assert config["oidc_initiation_url"] == "https://pathway.example.ac.uk/lti/login"
    assert config["public_jwk_url"] == "https://pathway.example.ac.uk/.well-known/jwks.json"
    assert "public_jwk" not in config  # keys rotate: Canvas reads the URL
    assert config["custom_fields"] == {
        "canvas_course_id": "$Canvas.course.id",
        "context_history": "$Context.id.history",
    }


def test_scopes_cover_grades_and_the_roster(tmp_path: Path) -> None:
    config = canvas_json(tmp_path, "https://pathway.example.ac.uk")
    assert sorted(config["scopes"]) == [
        AGS + "lineitem",
        AGS + "lineitem.readonly",
        AGS + "result.readonly",
        AGS + "score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    ]


def test_the_canvas_extension_shares_names_and_offers_deep_linking(tmp_path: Path) -> None:
    config = canvas_json(tmp_path, "https://pathway.example.ac.uk")
    [extension] = config["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] == "public"  # otherwise Canvas sends no name or email
    assert extension["domain"] == "pathway.example.ac.uk"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert {name: p["message_type"] for name, p in placements.items()} == {
        "course_navigation": "LtiResourceLinkRequest",
        "link_selection": "LtiDeepLinkingRequest",
        "assignment_selection": "LtiDeepLinkingRequest",
    }
    for placement in placements.values():
        assert placement["target_link_uri"] == "https://pathway.example.ac.uk/lti/launch"
        assert placement["text"]
    # Canvas's schema types the selection size as numbers.
    assert isinstance(placements["assignment_selection"]["selection_height"], int)
