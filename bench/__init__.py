"""Benchmarks of kore_resources against the floors set by Pulumi's dynamic-provider machinery and the
Kore.ai API. Run `venv/bin/python -m bench` (see docs/performance.md). Kept import-free: the plugin process
imports this package to unpickle `bench.trivial_provider`, and must not pay for anything else."""
