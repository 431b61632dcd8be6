"""CRS 3.3.4 regression runner: the CRS project's FTW YAML tests against a WAF target."""
