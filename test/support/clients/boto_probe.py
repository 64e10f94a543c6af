"""Drives euca's EC2 endpoint with Debian's boto3 or boto 2 and prints JSON results.

usage: /usr/bin/python3 boto_probe.py boto3|boto2-sigv4|boto2-sigv2
env:   EC2_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
"""
import json
import os
import sys
from urllib.parse import urlparse

mode = sys.argv[1]
url = os.environ["EC2_URL"]
key = os.environ["AWS_ACCESS_KEY_ID"]
secret = os.environ["AWS_SECRET_ACCESS_KEY"]
out = {}

if mode == "boto3":
    import boto3
    import botocore.config
    import botocore.exceptions

    def client(s):
        return boto3.client("ec2", endpoint_url=url, region_name="eucalyptus", aws_access_key_id=key,
                            aws_secret_access_key=s, config=botocore.config.Config(retries={"max_attempts": 0}))

    c = client(secret)
    out["regions"] = [r["RegionName"] for r in c.describe_regions()["Regions"]]
    out["zones"] = [[z["ZoneName"], z["State"]] for z in c.describe_availability_zones()["AvailabilityZones"]]
    out["verbose"] = [[z["ZoneName"], z["State"]] for z in c.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]]
    try:
        client("wrong" + secret).describe_regions()
        out["bad"] = "accepted"
    except botocore.exceptions.ClientError as e:
        out["bad"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
else:
    import boto
    from boto.ec2.connection import EC2Connection
    from boto.ec2.regioninfo import RegionInfo
    from boto.exception import EC2ResponseError

    u = urlparse(url)

    class SigV2Connection(EC2Connection):
        # What euca2ools 2.x and older boto did: SignatureVersion 2 in the POST body.
        def _required_auth_capability(self):
            return ["ec2"]

    cls = SigV2Connection if mode == "boto2-sigv2" else EC2Connection

    def conn(s):
        return cls(key, s, region=RegionInfo(name="eucalyptus", endpoint=u.hostname), port=u.port,
                   path=u.path, is_secure=False)

    c = conn(secret)
    out["regions"] = [r.name for r in c.get_all_regions()]
    out["zones"] = [[z.name, z.state] for z in c.get_all_zones()]
    out["verbose"] = [[z.name, z.state] for z in c.get_all_zones(zones=["verbose"])]
    try:
        conn("wrong" + secret).get_all_regions()
        out["bad"] = "accepted"
    except EC2ResponseError as e:
        out["bad"] = [e.error_code, e.status]

print(json.dumps(out))
