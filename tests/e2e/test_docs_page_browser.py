"""Each service's docs page in a real browser that may reach nothing but the service: Swagger UI renders
every operation and its Authorize button offers the bearer scheme."""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.async_api import BrowserContext, Route

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["intake", "pathway", "reporting", "notifications"])
def docs_url(request) -> Iterator[str]:
    """The service's app served without its lifespan: the page and its assets need no database or broker."""
    app = importlib.import_module(f"services.{request.param}.main").build()[0]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/docs"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def test_the_docs_page_renders_offline_with_the_authorize_button(docs_url: str, chromium: BrowserContext):
    elsewhere: list[str] = []
    failed: list[str] = []

    async def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await chromium.route("**/*", only_the_service)
    page = await chromium.new_page()
    page.on("requestfailed", lambda request: failed.append(request.url))
    await page.goto(docs_url)
    await page.locator(".opblock").first.wait_for(timeout=15_000)
    assert await page.locator(".opblock").count() >= 3
    await page.locator("button.authorize").first.click()
    await page.get_by_text("HTTPBearer").first.wait_for(timeout=5_000)
    assert elsewhere == [], elsewhere
    assert failed == [], failed
