"""boto3 with hostile keys: put, list v1/v2/versions (botocore asks encoding-type=url and decodes),
copy, tagging, multipart, delete_objects. Keys travel as hex on argv and stdout.

usage: /usr/bin/python3 boto3_keys.py BUCKET HEXKEY...
env:   S3_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
"""
import json
import os
import re
import sys

import boto3
from botocore.config import Config

bucket = sys.argv[1]
keys = [bytes.fromhex(h).decode("utf-8") for h in sys.argv[2:]]
c = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1",
                 config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
hexes = lambda ks: sorted(k.encode("utf-8").hex() for k in ks)
# Replies that echo a key without encoding-type=url (CreateMultipartUpload, CompleteMultipartUpload, DeleteObjects) cannot
# carry a control character to expat, which refuses any document holding one (S3's too): those keys take the single-key calls.
xml10 = lambda k: not re.search("[\x01-\x08\x0b\x0c\x0e-\x1f]", k)
out = {}
for k in keys:
    c.put_object(Bucket=bucket, Key=k, Body=k.encode("utf-8"))
out["get"] = all(c.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode("utf-8") for k in keys)
out["v1"] = hexes(o["Key"] for o in c.list_objects(Bucket=bucket)["Contents"])
out["v2"] = hexes(o["Key"] for o in c.list_objects_v2(Bucket=bucket)["Contents"])
out["versions"] = hexes(o["Key"] for o in c.list_object_versions(Bucket=bucket)["Versions"])
for k in keys:
    c.copy_object(Bucket=bucket, Key="copy/" + k, CopySource={"Bucket": bucket, "Key": k})
    c.put_object_tagging(Bucket=bucket, Key=k, Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
out["copied"] = all(c.get_object(Bucket=bucket, Key="copy/" + k)["Body"].read() == k.encode("utf-8") for k in keys)
out["tagged"] = all(c.get_object_tagging(Bucket=bucket, Key=k)["TagSet"] == [{"Key": "t", "Value": "v"}] for k in keys)
for k in filter(xml10, keys):
    u = c.create_multipart_upload(Bucket=bucket, Key="mp/" + k)
    p = c.upload_part(Bucket=bucket, Key="mp/" + k, UploadId=u["UploadId"], PartNumber=1, Body=b"part")
    c.complete_multipart_upload(Bucket=bucket, Key="mp/" + k, UploadId=u["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
everything = [o["Key"] for o in c.list_objects_v2(Bucket=bucket)["Contents"]]
d = c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in everything if xml10(k)]})
for k in everything:
    if not xml10(k):
        c.delete_object(Bucket=bucket, Key=k)
out["deleted"] = hexes(x["Key"] for x in d.get("Deleted", []))
out["all"] = hexes(k for k in everything if xml10(k))
out["count"] = len(everything)
out["errors"] = d.get("Errors", [])
out["left"] = c.list_objects_v2(Bucket=bucket).get("KeyCount")
print(json.dumps(out))
