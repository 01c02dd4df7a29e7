"""Webhook delivery over HTTP: the call engine's delivery port, as AT's platform reaches apps.

The engine is a pure state machine that hands each webhook to an injected delivery function;
this package is the one that really sends it (httpx), reads the app's answer within AT's
limits, and reports whatever happened as a result, never an exception.
"""
