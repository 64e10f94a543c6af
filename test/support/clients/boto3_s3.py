"""boto3 against euca's S3 port: mb, put (multipart above 8 MiB), ls, get, rm, rb.

usage: /usr/bin/python3 boto3_s3.py BUCKET FILE OUT
env:   S3_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
"""
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

bucket, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
c = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1",
                 config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
c.create_bucket(Bucket=bucket)
c.upload_file(path, bucket, "dir/big.bin", Config=cfg)
c.put_object(Bucket=bucket, Key="small.txt", Body=b"small", Metadata={"k": "v"})
listing = c.list_objects_v2(Bucket=bucket)
head = c.head_object(Bucket=bucket, Key="dir/big.bin")
c.download_file(bucket, "dir/big.bin", out, Config=cfg)
meta = c.head_object(Bucket=bucket, Key="small.txt")["Metadata"]
deleted = c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "dir/big.bin"}, {"Key": "small.txt"}]})
c.delete_bucket(Bucket=bucket)
print(json.dumps({
    "keys": [o["Key"] for o in listing["Contents"]],
    "etag": head["ETag"],
    "size": head["ContentLength"],
    "meta": meta,
    "deleted": sorted(d["Key"] for d in deleted["Deleted"]),
}))
