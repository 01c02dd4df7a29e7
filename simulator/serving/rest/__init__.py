"""The fake of AT's Voice REST API: ``/call``, ``/queueStatus``, ``/mediaUpload``,
``/callTransfer``, answering exactly as ``voice.africastalking.com`` does."""

from __future__ import annotations
