"""The rest of the control plane with boto3 and the AWS CLI: tags, encryption, enhanced
monitoring, limits, account settings, stream mode, warm throughput, record size, policies."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from kutil import (ACCOUNT, REGION, FreshetServer, create_stream, kinesis_client, read_shard, unique,
                   wait_active)
from test_cli import aws_command

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"
ALL_METRICS = [
    "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
    "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
]


def arn(name: str) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def error_of(excinfo) -> tuple[str, str]:
    e = excinfo.value.response["Error"]
    return e["Code"], e.get("Message", "")


@pytest.fixture(scope="module")
def aws(endpoint, tmp_path_factory):
    home = tmp_path_factory.mktemp("aws-home-control")
    env = os.environ.copy()
    env.update({
        "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
    })

    def run(*args: str, check: bool = True):
        cmd = [*aws_command(), "--endpoint-url", endpoint, "--output", "json",
               "--cli-connect-timeout", "5", "--cli-read-timeout", "30", "kinesis", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        if check:
            assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}"
            return json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc

    return run


def test_tags_with_boto3(kinesis, stream_name):
    create_stream(kinesis, stream_name, Tags={"created": "yes"})
    kinesis.add_tags_to_stream(StreamName=stream_name, Tags={"team": "data", "env": "dev"})
    kinesis.add_tags_to_stream(StreamARN=arn(stream_name), Tags={"env": "prod"})
    out = kinesis.list_tags_for_stream(StreamName=stream_name)
    assert out == {**out, "HasMoreTags": False}
    assert out["Tags"] == [{"Key": "created", "Value": "yes"}, {"Key": "env", "Value": "prod"},
                           {"Key": "team", "Value": "data"}]
    page = kinesis.list_tags_for_stream(StreamName=stream_name, Limit=1, ExclusiveStartTagKey="created")
    assert page["Tags"] == [{"Key": "env", "Value": "prod"}] and page["HasMoreTags"] is True

    kinesis.remove_tags_from_stream(StreamName=stream_name, TagKeys=["team", "unknown"])
    kinesis.tag_resource(ResourceARN=arn(stream_name), Tags={"a": "1"})
    kinesis.untag_resource(ResourceARN=arn(stream_name), TagKeys=["created"])
    assert kinesis.list_tags_for_resource(ResourceARN=arn(stream_name))["Tags"] == [
        {"Key": "a", "Value": "1"}, {"Key": "env", "Value": "prod"}]

    with pytest.raises(ClientError) as err:
        kinesis.add_tags_to_stream(StreamName=stream_name, Tags={"k": "100%"})
    assert error_of(err) == ("InvalidArgumentException",
                             f"Failed to add tags to stream {stream_name} under account {ACCOUNT} because "
                             "some tags contained illegal characters. The allowed characters are Unicode "
                             "letters, white-spaces, '_',',','/','=','+','-','@'.")
    with pytest.raises(ClientError) as err:
        kinesis.add_tags_to_stream(StreamName=stream_name, Tags={f"k{i}": "v" for i in range(49)})
    assert error_of(err) == ("InvalidArgumentException",
                             f"Failed to add tags to stream {stream_name} under account {ACCOUNT} because "
                             "a given stream cannot have more than 10 tags associated with it.")
    with pytest.raises(ClientError) as err:
        kinesis.list_tags_for_resource(ResourceARN=f"{arn(stream_name)}/consumer/c:1")
    assert error_of(err) == ("ResourceNotFoundException", f"Consumer c, account {ACCOUNT} not found.")


def test_tags_with_the_cli(aws, kinesis, stream_name):
    create_stream(kinesis, stream_name)
    aws("add-tags-to-stream", "--stream-name", stream_name, "--tags", "owner=cli,stage=test")
    aws("tag-resource", "--resource-arn", arn(stream_name), "--tags", "extra=1")
    out = aws("list-tags-for-stream", "--stream-name", stream_name)
    assert [t["Key"] for t in out["Tags"]] == ["extra", "owner", "stage"]
    aws("remove-tags-from-stream", "--stream-name", stream_name, "--tag-keys", "owner")
    out = aws("list-tags-for-resource", "--resource-arn", arn(stream_name))
    assert out["Tags"] == [{"Key": "extra", "Value": "1"}, {"Key": "stage", "Value": "test"}]


def test_encryption_shows_on_puts_reads_and_descriptions(kinesis, stream_name):
    create_stream(kinesis, stream_name)
    plain = kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=b"plain")
    assert "EncryptionType" not in plain

    kinesis.start_stream_encryption(StreamName=stream_name, EncryptionType="KMS", KeyId=KEY_ARN)
    wait_active(kinesis, stream_name)
    d = kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]
    assert (d["EncryptionType"], d["KeyId"]) == ("KMS", KEY_ARN)
    s = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert (s["EncryptionType"], s["KeyId"]) == ("KMS", KEY_ARN)
    assert kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=b"secret")["EncryptionType"] == "KMS"
    batch = kinesis.put_records(StreamName=stream_name, Records=[{"PartitionKey": "k", "Data": b"batch"}])
    assert batch["EncryptionType"] == "KMS"

    kinesis.stop_stream_encryption(StreamName=stream_name, EncryptionType="KMS", KeyId=KEY_ARN)
    wait_active(kinesis, stream_name)
    assert "EncryptionType" not in kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=b"after")
    s = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert s["EncryptionType"] == "NONE" and "KeyId" not in s

    records = read_shard(kinesis, stream_name, "shardId-000000000000")
    assert [(r["Data"], r.get("EncryptionType")) for r in records] == [
        (b"plain", None), (b"secret", "KMS"), (b"batch", "KMS"), (b"after", None)]

    with pytest.raises(ClientError) as err:
        kinesis.start_stream_encryption(StreamName=stream_name, EncryptionType="NONE", KeyId=KEY_ARN)
    assert error_of(err) == ("InvalidArgumentException",
                             "EncryptionType NONE is not valid for StartStreamEncryption. The only valid value is KMS.")
    with pytest.raises(ClientError) as err:
        kinesis.start_stream_encryption(StreamName=stream_name, EncryptionType="KMS", KeyId="nope")
    assert error_of(err)[0] == "InvalidArgumentException"


def test_enhanced_monitoring(kinesis, aws, stream_name):
    create_stream(kinesis, stream_name)
    out = kinesis.enable_enhanced_monitoring(StreamName=stream_name, ShardLevelMetrics=["ALL"])
    assert out["CurrentShardLevelMetrics"] == [] and out["DesiredShardLevelMetrics"] == ALL_METRICS
    assert out["StreamName"] == stream_name and out["StreamARN"] == arn(stream_name)
    out = aws("disable-enhanced-monitoring", "--stream-name", stream_name,
              "--shard-level-metrics", "IncomingBytes", "OutgoingRecords")
    assert out["CurrentShardLevelMetrics"] == ALL_METRICS
    left = [m for m in ALL_METRICS if m not in ("IncomingBytes", "OutgoingRecords")]
    assert out["DesiredShardLevelMetrics"] == left
    d = kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]
    assert d["EnhancedMonitoring"] == [{"ShardLevelMetrics": left}]
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream_summary(StreamName=stream_name + "-x")
    assert error_of(err)[0] == "ResourceNotFoundException"


def test_limits_and_stream_mode(kinesis, aws, stream_name):
    create_stream(kinesis, stream_name, shards=2)
    before = kinesis.describe_limits()
    assert set(before) >= {"ShardLimit", "OpenShardCount", "OnDemandStreamCount", "OnDemandStreamCountLimit"}
    assert before["OnDemandStreamCountLimit"] == 50
    assert before["OpenShardCount"] >= 2

    kinesis.update_stream_mode(StreamARN=arn(stream_name), StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(kinesis, stream_name)
    s = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert s["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    summaries = {x["StreamName"]: x for x in kinesis.list_streams()["StreamSummaries"]}
    assert summaries[stream_name]["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    with pytest.raises(ClientError) as err:
        kinesis.update_stream_mode(StreamARN=arn(stream_name), StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert error_of(err) == ("InvalidArgumentException",
                             f"Stream {stream_name} under account {ACCOUNT} is already in ON_DEMAND mode.")
    aws("update-stream-mode", "--stream-arn", arn(stream_name),
        "--stream-mode-details", "StreamMode=PROVISIONED")
    wait_active(kinesis, stream_name)
    assert aws("describe-limits")["ShardLimit"] == before["ShardLimit"]


def test_account_settings_and_warm_throughput(kinesis):
    name = unique("warm")
    create_stream(kinesis, name, shards=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    out = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    c = out["MinimumThroughputBillingCommitment"]
    assert c["Status"] == "ENABLED"
    assert c["EarliestAllowedEndAt"] - c["StartedAt"] == timedelta(hours=24)
    assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == "ENABLED"

    out = kinesis.update_stream_warm_throughput(StreamName=name, WarmThroughputMiBps=100)
    assert out["StreamName"] == name and out["StreamARN"] == arn(name)
    assert out["WarmThroughput"]["TargetMiBps"] == 100
    wait_active(kinesis, name)
    s = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert s["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 100}
    with pytest.raises(ClientError) as err:
        kinesis.update_stream_warm_throughput(StreamName=name, WarmThroughputMiBps=20000)
    assert error_of(err)[0] == "LimitExceededException"

    provisioned = unique("warm-prov")
    create_stream(kinesis, provisioned)
    with pytest.raises(ClientError) as err:
        kinesis.update_stream_warm_throughput(StreamName=provisioned, WarmThroughputMiBps=10)
    assert error_of(err)[0] == "ValidationException"


def test_max_record_size(kinesis, stream_name):
    create_stream(kinesis, stream_name, MaxRecordSizeInKiB=1024)
    big = b"x" * (2 * 1024 * 1024)
    with pytest.raises(ClientError) as err:
        kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=big)
    assert error_of(err)[0] == "InvalidArgumentException"
    kinesis.update_max_record_size(StreamARN=arn(stream_name), MaxRecordSizeInKiB=4096)
    s = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert s["MaxRecordSizeInKiB"] == 4096
    kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=big)
    assert read_shard(kinesis, stream_name, "shardId-000000000000")[0]["Data"] == big


def test_resource_policies(kinesis, aws, stream_name):
    create_stream(kinesis, stream_name)
    assert kinesis.get_resource_policy(ResourceARN=arn(stream_name))["Policy"] == "{}"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kinesis:DescribeStreamSummary", "Resource": arn(stream_name)}]})
    kinesis.put_resource_policy(ResourceARN=arn(stream_name), Policy=policy)
    assert aws("get-resource-policy", "--resource-arn", arn(stream_name))["Policy"] == policy
    aws("delete-resource-policy", "--resource-arn", arn(stream_name))
    assert kinesis.get_resource_policy(ResourceARN=arn(stream_name))["Policy"] == "{}"
    with pytest.raises(ClientError) as err:
        kinesis.put_resource_policy(ResourceARN=arn(stream_name), Policy="not json")
    assert error_of(err)[0] == "InvalidArgumentException"


def test_settings_survive_a_restart(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        kinesis = kinesis_client(srv.endpoint)
        name = unique("keep")
        create_stream(kinesis, name)
        kinesis.add_tags_to_stream(StreamName=name, Tags={"keep": "me"})
        kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"plain")
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        wait_active(kinesis, name)
        kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"secret")
        kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
        kinesis.put_resource_policy(ResourceARN=arn(name), Policy='{"Statement":{"Effect":"Deny"}}')
        kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
        assert srv.stop() == 0
        srv.start()
        kinesis = kinesis_client(srv.endpoint)
        s = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        assert (s["EncryptionType"], s["KeyId"]) == ("KMS", "alias/aws/kinesis")
        assert s["EnhancedMonitoring"] == [{"ShardLevelMetrics": ["IncomingBytes"]}]
        assert kinesis.list_tags_for_stream(StreamName=name)["Tags"] == [{"Key": "keep", "Value": "me"}]
        assert kinesis.get_resource_policy(ResourceARN=arn(name))["Policy"] == '{"Statement":{"Effect":"Deny"}}'
        assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == "ENABLED"
        records = read_shard(kinesis, name, "shardId-000000000000")
        assert [(r["Data"], r.get("EncryptionType")) for r in records] == [(b"plain", None), (b"secret", "KMS")]
    finally:
        srv.stop()
