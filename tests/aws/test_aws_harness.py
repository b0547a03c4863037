"""slipway.testing: isolated runs, failing applies, stack-file config, invokes."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from slipway.testing import config_from_stack_file, run_pulumi


def _bucket_program() -> None:
    bucket = aws.s3.Bucket("b", opts=pulumi.ResourceOptions(protect=True))
    pulumi.export("name", bucket.bucket)
    pulumi.export("account", aws.get_caller_identity_output().account_id)
    pulumi.export("region", aws.get_region_output().region)


def test_run_records_resources_options_and_outputs() -> None:
    run = run_pulumi(_bucket_program, config={"aws:region": "eu-west-1"})
    bucket = run.one("aws:s3/bucket:Bucket")
    assert bucket.protect and not bucket.retain_on_delete
    assert run.outputs["name"] == bucket.state["bucket"]
    assert run.outputs["account"] == "123456789012"
    assert run.outputs["region"] == "eu-west-1"


def test_a_run_takes_no_stack_trace_per_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under mocks nothing reads a resource's stack trace; the SDK's capture of it is left
    out while the program runs, and put back after (seen failing with it taken)."""
    from pulumi.runtime import resource

    taken: list[object] = []

    def capture() -> object:
        taken.append(1)
        return original()

    original = resource._get_stack_trace
    monkeypatch.setattr(resource, "_get_stack_trace", capture)  # raises if pulumi renames it
    run_pulumi(_bucket_program)
    assert taken == []
    assert resource._get_stack_trace is capture


def test_each_run_starts_empty() -> None:
    first = run_pulumi(_bucket_program)
    second = run_pulumi(_bucket_program)
    assert len(first.of_type("aws:s3/bucket:Bucket")) == 1
    assert len(second.of_type("aws:s3/bucket:Bucket")) == 1


def test_assertion_inside_apply_fails_the_run() -> None:
    def program() -> None:
        bucket = aws.s3.Bucket("b")

        def check(name: str) -> str:
            assert name == "something-else", "checked inside apply"
            return name

        pulumi.export("checked", bucket.bucket.apply(check))

    with pytest.raises(AssertionError, match="checked inside apply"):
        run_pulumi(program)


def test_unmocked_invoke_is_reported() -> None:
    def program() -> None:
        pulumi.export("vpc", aws.ec2.get_vpc_output(default=True).id)

    with pytest.raises(Exception, match="no mock for invoke aws:ec2/getVpc:getVpc"):
        run_pulumi(program)


def test_stack_file_config_is_stringified_and_namespaced(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  slipway:preset: dev\n  count: 3\n  flag: true\n")
    assert config_from_stack_file(stack_file, "proj") == {
        "slipway:preset": "dev",
        "proj:count": "3",
        "proj:flag": "true",
    }


def test_stack_file_secrets_are_refused(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  slipway:token:\n    secure: AAAB\n")
    with pytest.raises(ValueError, match="slipway:token: secrets cannot be decrypted"):
        config_from_stack_file(stack_file, "proj")


def test_a_failed_run_does_not_leak_into_the_next() -> None:
    def failing() -> None:
        aws.s3.Bucket("b")
        pulumi.export("vpc", aws.ec2.get_vpc_output(default=True).id)

    with pytest.raises(Exception, match="no mock for invoke"):
        run_pulumi(failing)
    assert run_pulumi(_bucket_program).outputs["account"] == "123456789012"
