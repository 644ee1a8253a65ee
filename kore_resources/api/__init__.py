"""The Kore.ai HTTP layer: the client (`client.py`), JWTs (`auth.py`), which failures are retried
(`retry.py`), Kore.ai's rate limits (`ratelimit.py`), the answers as typed values (`models.py`), input
validation where values become URLs and headers (`validation.py`) and the errors (`errors.py`). No Pulumi
here; the resources build on it. The endpoints are described in docs/kore-api.md."""
