"""The dashboard's page and its assets (HTML, CSS, JavaScript modules), served as they are:
no build step, nothing fetched from the internet."""

from __future__ import annotations
