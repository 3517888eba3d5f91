"""The browser page: served at ``/`` with its files under ``/web/``, readable without an API key (the page then offers
the key on the Realtime WebSocket), and nothing else reachable through the static folder."""

from __future__ import annotations

import re

import httpx
import pytest

from omni.server.app import WEB_DIR
from tests.server.serving import fake_state, serving

CONTRACT_IDS = [
    "start", "status", "connection", "transcript", "latency", "level", "text-input", "send", "camera", "screen",
    "snapshot", "preview", "settings", "voice", "language", "turn-detection", "instructions", "api-key", "talk",
    "error",
]


async def test_the_page_and_its_files_need_no_key_when_keys_are_set() -> None:
    async with serving(fake_state(server={"api_keys": ["k"]})) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/")
        script = await http.get("/web/app.js")
        style = await http.get("/web/style.css")
        worklet = await http.get("/web/playback-worklet.js")
        about = await http.get("/about")
        api = await http.get("/v1/models")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for identifier in CONTRACT_IDS:
        assert re.search(rf'\bid="{identifier}"', page.text), identifier
    assert 'src="web/app.js"' in page.text and 'type="module"' in page.text
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert worklet.status_code == 200 and "javascript" in worklet.headers["content-type"]
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert about.status_code == api.status_code == 401  # the server's description and API still want the key


async def test_every_module_the_page_imports_is_served() -> None:
    """The ES modules import each other by relative path: each must exist and be served as JavaScript."""
    scripts = sorted(path.name for path in WEB_DIR.glob("*.js"))
    imported = set()
    for name in scripts:
        imported |= set(re.findall(r'from "\./([\w-]+\.js)"', (WEB_DIR / name).read_text()))
        imported |= set(re.findall(r'new URL\("\./([\w-]+\.js)"', (WEB_DIR / name).read_text()))
    assert imported and imported <= set(scripts)
    async with serving(fake_state()) as url, httpx.AsyncClient(base_url=url) as http:
        for name in sorted(imported):
            response = await http.get(f"/web/{name}")
            assert response.status_code == 200 and "javascript" in response.headers["content-type"], name


@pytest.mark.parametrize("path", ["/web/../config.py", "/web/%2e%2e/config.py", "/web/..%2Fconfig.py",
                                  "/web/%2e%2e/server/auth.py", "/web/nothing-here.js"])
async def test_nothing_outside_the_web_folder_is_served(path: str) -> None:
    async with serving(fake_state()) as url, httpx.AsyncClient() as http:
        # httpx would resolve a literal "..": send the path as written
        response = await http.send(httpx.Request("GET", url + "/", extensions={"target": path.encode()}))
    assert response.status_code == 404
    assert "def " not in response.text


async def test_traversal_with_keys_set_is_refused_or_not_found() -> None:
    async with serving(fake_state(server={"api_keys": ["k"]})) as url, httpx.AsyncClient() as http:
        for path in ("/web/../v1/models", "/web/%2e%2e/config.py"):
            response = await http.send(httpx.Request("GET", url + "/", extensions={"target": path.encode()}))
            assert response.status_code in (401, 404), path
            assert "def " not in response.text


async def test_only_reading_the_page_is_open() -> None:
    async with serving(fake_state(server={"api_keys": ["k"]})) as url, httpx.AsyncClient(base_url=url) as http:
        post = await http.post("/web/app.js", content=b"x")
        keyed = await http.get("/web/app.js", headers={"Authorization": "Bearer k"})
    assert post.status_code == 401
    assert keyed.status_code == 200
