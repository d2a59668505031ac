# schemathesis hooks of scripts/test-http-api.sh (SCHEMATHESIS_HOOKS): a serializer for the
# streamed import's application/x-ndjson body (POST /v1/findings/import-stream), which
# schemathesis has none for. A generated string goes as it is (the route answers its lines'
# problems with 400); anything else as one JSON value a line.
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode("utf-8")
