"""Prometheus metrics. Gauges that need the database are filled at scrape time."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "aanmeldpunt_http_request_duration_seconds",
    "HTTP request latency by method, route template and status.",
    ["method", "route", "status"],
)
INTAKES_OPEN = Gauge("aanmeldpunt_intakes", "Intakes per region and status.", ["region", "status"])
DEADLINES_OPEN = Gauge("aanmeldpunt_deadlines_open", "Open deadlines per region and phase.", ["region", "phase"])
DEADLINES_OVERDUE = Gauge(
    "aanmeldpunt_deadlines_overdue", "Overdue deadlines per region and phase.", ["region", "phase"]
)
WEBHOOK_DELIVERIES = Counter(
    "aanmeldpunt_webhook_deliveries_total", "Webhook delivery attempts by outcome.", ["outcome"]
)
OUTBOX_LAG = Gauge("aanmeldpunt_outbox_lag_seconds", "Age of the oldest due webhook delivery.")
DELIVERIES_BY_STATUS = Gauge(
    "aanmeldpunt_webhook_deliveries_queued", "Deliveries per region and status.", ["region", "status"]
)
