"""Parses `twinsync metrics` output (stdin) with the Prometheus Python client's strict
OpenMetrics parser and prints every sample as one JSON object:
{"name{label=value,...}": value}. Any format error raises, failing the calling test.
Run by tests/metrics_cli.rs with TWINSYNC_TEST_PYTHON (the venv `.ci/run` makes)."""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

samples = {}
types = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    types[family.name] = family.type
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        samples[f"{s.name}{{{labels}}}"] = s.value
print(json.dumps({"samples": samples, "types": types}))
