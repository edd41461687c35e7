"""A FHIR Bulk Data client that knows only the specification (Bulk Data Access v2, system-level
export): no address of the clinic's but the FHIR base, each next address from the server's
answer, and the worker's run between polls, where a real client would wait ``Retry-After``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FHIR_JSON = "application/fhir+json"


@dataclass
class BulkDataClient:
    http: Any  # an authenticated API client
    base: str = "/api/v1/fhir"
    polls: list[tuple[int, str]] = field(default_factory=list)  # (status, X-Progress)

    def kick_off(self, **parameters: str) -> str:
        """Start a system-level export; the status address the server gives."""
        response = self.http.get(
            f"{self.base}/$export",
            parameters,
            HTTP_ACCEPT=FHIR_JSON,
            HTTP_PREFER="respond-async",
        )
        assert response.status_code == 202, response.content[:500]
        return response["Content-Location"]

    def poll(self, status_url: str) -> Any:
        response = self.http.get(status_url, HTTP_ACCEPT="application/json")
        self.polls.append((response.status_code, response.get("X-Progress", "")))
        return response

    def wait(self, status_url: str, work: Callable[[], Any]) -> dict[str, Any]:
        """Poll until the manifest comes, letting ``work`` (the worker) run after each 202."""
        for _ in range(10):
            response = self.poll(status_url)
            if response.status_code == 200:
                assert response["Content-Type"].startswith("application/json")
                return response.json()
            assert response.status_code == 202, response.content[:500]
            assert int(response["Retry-After"]) > 0
            work()
        raise AssertionError("the export never finished")

    def download(self, manifest: dict[str, Any], directory: Path) -> dict[str, Path]:
        """Each output file (the client's token goes with every request)."""
        files = {}
        for item in manifest["output"]:
            response = self.http.get(item["url"], HTTP_ACCEPT="application/fhir+ndjson")
            assert response.status_code == 200, item
            path = directory / f"{item['type']}.ndjson"
            path.write_bytes(b"".join(response.streaming_content))
            files[item["type"]] = path
        return files

    def cancel(self, status_url: str) -> Any:
        return self.http.delete(status_url, HTTP_ACCEPT=FHIR_JSON)


def ndjson(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
