"""Runs one instance with AddressingType=private (boto 2's addressing_type, as euca2ools' --addressing private) and prints its id.

usage: /usr/bin/python3 boto2_run_private.py IMAGE_ID
env:   EC2_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and for https AWS_CA_BUNDLE (the cloud CA)
"""
import os
import sys
from urllib.parse import urlparse

import boto

from boto.ec2.connection import EC2Connection
from boto.ec2.regioninfo import RegionInfo

u = urlparse(os.environ["EC2_URL"])
if os.environ.get("AWS_CA_BUNDLE"):
    # boto 2 checks certificates against its own bundle unless its config names another (as euca2ools' users set it).
    if not boto.config.has_section("Boto"):
        boto.config.add_section("Boto")
    boto.config.set("Boto", "ca_certificates_file", os.environ["AWS_CA_BUNDLE"])
    boto.config.set("Boto", "https_validate_certificates", "True")
c = EC2Connection(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
                  region=RegionInfo(name="eucalyptus", endpoint=u.hostname), port=u.port, path=u.path,
                  is_secure=u.scheme == "https")
r = c.run_instances(sys.argv[1], instance_type="m1.small", addressing_type="private")
print(r.instances[0].id)
