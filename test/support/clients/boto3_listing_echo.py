"""boto3 lists with values that need encoding echoed back (botocore asks encoding-type=url and decodes
what it knows to): each listing's echoed Prefix, Delimiter, Marker/StartAfter/KeyMarker, the keys and
common prefixes, as hex (JSON on stdout).

usage: /usr/bin/python3 boto3_listing_echo.py BUCKET HEXVALUE...
env:   S3_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
"""
import json
import os
import sys

import boto3
from botocore.config import Config

bucket = sys.argv[1]
values = [bytes.fromhex(h).decode("utf-8") for h in sys.argv[2:]]
c = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1",
                 config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
h = lambda s: None if s is None else s.encode("utf-8").hex()
out = []
for v in values:
    c.put_object(Bucket=bucket, Key=v + "x" + v + "y", Body=b"")
    r1 = c.list_objects(Bucket=bucket, Prefix=v, Delimiter=v, Marker=v)
    r2 = c.list_objects_v2(Bucket=bucket, Prefix=v, Delimiter=v, StartAfter=v)
    r3 = c.list_object_versions(Bucket=bucket, Prefix=v, Delimiter=v, KeyMarker=v)
    out.append({
        "v1": [h(r1.get("Prefix")), h(r1.get("Delimiter")), h(r1.get("Marker")), [h(p["Prefix"]) for p in r1.get("CommonPrefixes", [])]],
        "v2": [h(r2.get("Prefix")), h(r2.get("Delimiter")), h(r2.get("StartAfter")), [h(p["Prefix"]) for p in r2.get("CommonPrefixes", [])]],
        "versions": [h(r3.get("Prefix")), h(r3.get("Delimiter")), h(r3.get("KeyMarker")), [h(p["Prefix"]) for p in r3.get("CommonPrefixes", [])]],
    })
print(json.dumps(out))
