"""Drives hybrid-sandbox's cloud APIs with the official Alibaba Cloud Python SDKs.

Run by sandbox/tests/cloud_official_sdk.rs, which installs the pinned SDKs into a cached venv,
starts a sandbox and passes its `sandbox.env` values as environment variables. Installs nothing.
Every operation the provider uses goes through the generated clients and their typed responses,
so the sandbox's wire shapes (names, casing, nesting, error bodies) are checked by code we did
not write.
"""

import json
import os
import ssl
import sys
import time
import traceback
import urllib.error
import urllib.request

from alibabacloud_cs20151215 import models as cs_models
from alibabacloud_cs20151215.client import Client as CsClient
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient

ENV = os.environ
REGION = ENV["ALIBABA_CLOUD_REGION"]
CLUSTER = ENV["TF_VAR_cluster_id"]
VPC = ENV["TF_VAR_vpc_id"]
VSWITCHES = json.loads(ENV["TF_VAR_vswitch_ids"])
SECURITY_GROUP = ENV["TF_VAR_security_group_id"]
NODE_POOLS = json.loads(ENV["TF_VAR_node_pool_ids"])

REQUIRED_OPERATIONS = {
    # RAM
    "CreateUser", "GetUser", "DeleteUser", "CreatePolicy", "GetPolicy", "DeletePolicy",
    "CreatePolicyVersion", "AttachPolicyToUser", "DetachPolicyFromUser", "ListPoliciesForUser",
    "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
    "ListPolicyVersions", "DeletePolicyVersion",
    # CS
    "DescribeClusterDetail", "InstallClusterAddons", "UnInstallClusterAddons", "UpgradeClusterAddons",
    "ModifyClusterAddon", "DescribeClusterAddonInstance", "DescribeClusterAddonsVersion", "ListAddons",
    "DescribeAddon", "DescribeClusterAddonsUpgradeStatus", "ListClusterAddonInstances",
    "GetClusterAddonInstance", "DescribeTaskInfo", "DescribeClusterNodePools",
    "DescribeClusterNodePoolDetail", "ModifyClusterNodePool", "DescribeClusterNodes",
    # VPC, ECS
    "DescribeVSwitches", "DescribeSecurityGroups",
}
called = set()


def endpoint(var):
    """The SDKs take a host[:port]; the scheme comes from `protocol`."""
    url = ENV[var]
    assert url.startswith("http://"), url
    return url[len("http://"):].rstrip("/")


def config(var, key_id=None, secret=None, token=None):
    return Config(
        access_key_id=key_id or ENV["ALIBABA_CLOUD_ACCESS_KEY_ID"],
        access_key_secret=secret or ENV["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
        security_token=token,
        endpoint=endpoint(var),
        protocol="http",
        region_id=REGION,
        read_timeout=10000,
        connect_timeout=5000,
    )


ram = RamClient(config("HYBRID_ENDPOINT_RAM"))
cs = CsClient(config("HYBRID_ENDPOINT_CS"))
vpc = VpcClient(config("HYBRID_ENDPOINT_VPC"))
ecs = EcsClient(config("HYBRID_ENDPOINT_ECS"))


def op(name, fn, *args):
    called.add(name)
    resp = fn(*args)
    assert resp.status_code == 200, (name, resp.status_code)
    return resp.body


def expect_error(name, code, status, fn, *args):
    called.add(name)
    try:
        fn(*args)
    except AlibabaCloudException as e:
        assert e.code == code, f"{name}: expected {code}, got {e.code}: {e.message}"
        assert e.status_code == status, f"{name}: expected HTTP {status}, got {e.status_code}"
        assert e.request_id and e.request_id != "None", f"{name}: no request id in the error"
        return e
    raise AssertionError(f"{name}: expected {code}, the call succeeded")


# --- helpers for the admin endpoints and the Kubernetes side ------------------------------------

ADMIN_TOKEN = ENV["HYBRID_SANDBOX_KUBE_TOKEN"]


def admin(path, body=None, method=None):
    url = ENV["HYBRID_SANDBOX_CLOUD_URL"] + "/__sandbox/cloud/" + path
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    req.add_header("Authorization", "Bearer " + ADMIN_TOKEN)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


KUBE_CTX = ssl.create_default_context(cafile=ENV["HYBRID_SANDBOX_CA_FILE"])


def kube_get(path):
    """GET on the sandbox's Kubernetes API; None on 404."""
    req = urllib.request.Request(ENV["HYBRID_SANDBOX_KUBE_HOST"] + path)
    req.add_header("Authorization", "Bearer " + ADMIN_TOKEN)
    try:
        with urllib.request.urlopen(req, timeout=10, context=KUBE_CTX) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


TERWAY_DS = "/apis/apps/v1/namespaces/kube-system/daemonsets/terway-eniip"


def wait_task(task_id, timeout=20.0):
    deadline = time.time() + timeout
    while True:
        body = op("DescribeTaskInfo", cs.describe_task_info, task_id)
        assert body.task_id == task_id
        assert body.cluster_id == CLUSTER
        if body.state != "running":
            return body
        assert time.time() < deadline, f"task {task_id} still running"
        time.sleep(0.1)


# --- RAM ----------------------------------------------------------------------------------------

POLICY_DOC = json.dumps({"Version": "1", "Statement": [
    {"Effect": "Allow", "Action": ["ecs:DescribeNetworkInterfaces", "vpc:DescribeVSwitches"], "Resource": "*"}]})
POLICY_DOC_2 = json.dumps({"Version": "1", "Statement": [
    {"Effect": "Allow", "Action": ["ecs:CreateNetworkInterface"], "Resource": ["*"]}]})


def test_ram_user_policy_and_keys():
    user, policy = "ack-one-user-sdk01", "ack-one-registered-cluster-policy-terway-eniip"
    b = op("CreateUser", ram.create_user, ram_models.CreateUserRequest(user_name=user, display_name="ack one user"))
    assert b.user.user_name == user and b.user.display_name == "ack one user"
    assert len(b.user.user_id) == 16 and b.user.create_date, b.user.to_map()
    assert b.request_id
    b = op("GetUser", ram.get_user, ram_models.GetUserRequest(user_name=user))
    assert b.user.user_name == user and b.user.update_date
    expect_error("CreateUser", "EntityAlreadyExists.User", 409, ram.create_user, ram_models.CreateUserRequest(user_name=user))
    expect_error("CreateUser", "InvalidParameter.UserName.InvalidChars", 400, ram.create_user,
                 ram_models.CreateUserRequest(user_name="bad name"))

    b = op("CreatePolicy", ram.create_policy, ram_models.CreatePolicyRequest(
        policy_name=policy, policy_document=POLICY_DOC, description="Terway ENI and IP management"))
    assert b.policy.policy_name == policy and b.policy.policy_type == "Custom" and b.policy.default_version == "v1"
    expect_error("CreatePolicy", "EntityAlreadyExists.Policy", 409, ram.create_policy,
                 ram_models.CreatePolicyRequest(policy_name=policy, policy_document=POLICY_DOC))
    expect_error("CreatePolicy", "MalformedPolicyDocument", 400, ram.create_policy,
                 ram_models.CreatePolicyRequest(policy_name="p-bad", policy_document="{not json"))
    b = op("GetPolicy", ram.get_policy, ram_models.GetPolicyRequest(policy_name=policy, policy_type="Custom"))
    assert b.policy.attachment_count == 0 and b.policy.description == "Terway ENI and IP management"
    assert b.default_policy_version.version_id == "v1" and b.default_policy_version.is_default_version is True
    assert json.loads(b.default_policy_version.policy_document) == json.loads(POLICY_DOC)
    expect_error("GetPolicy", "EntityNotExist.Policy", 404, ram.get_policy,
                 ram_models.GetPolicyRequest(policy_name="nope", policy_type="Custom"))

    b = op("CreatePolicyVersion", ram.create_policy_version, ram_models.CreatePolicyVersionRequest(
        policy_name=policy, policy_document=POLICY_DOC_2, set_as_default=True))
    assert b.policy_version.version_id == "v2" and b.policy_version.is_default_version is True
    b = op("GetPolicy", ram.get_policy, ram_models.GetPolicyRequest(policy_name=policy, policy_type="Custom"))
    assert b.policy.default_version == "v2"
    assert json.loads(b.default_policy_version.policy_document) == json.loads(POLICY_DOC_2)
    b = op("ListPolicyVersions", ram.list_policy_versions,
           ram_models.ListPolicyVersionsRequest(policy_name=policy, policy_type="Custom"))
    assert [v.version_id for v in b.policy_versions.policy_version] == ["v1", "v2"]

    attach = ram_models.AttachPolicyToUserRequest(policy_type="Custom", policy_name=policy, user_name=user)
    op("AttachPolicyToUser", ram.attach_policy_to_user, attach)
    expect_error("AttachPolicyToUser", "EntityAlreadyExists.User.Policy", 409, ram.attach_policy_to_user, attach)
    b = op("ListPoliciesForUser", ram.list_policies_for_user, ram_models.ListPoliciesForUserRequest(user_name=user))
    assert [(p.policy_name, p.policy_type, p.default_version) for p in b.policies.policy] == [(policy, "Custom", "v2")]
    assert b.policies.policy[0].attach_date
    expect_error("DeletePolicy", "DeleteConflict.Policy.User", 409, ram.delete_policy,
                 ram_models.DeletePolicyRequest(policy_name=policy))

    b = op("CreateAccessKey", ram.create_access_key, ram_models.CreateAccessKeyRequest(user_name=user))
    key_id, secret = b.access_key.access_key_id, b.access_key.access_key_secret
    assert key_id and len(secret) >= 30 and b.access_key.status == "Active"
    # The new key signs requests like the real service's keys do.
    as_user = VpcClient(config("HYBRID_ENDPOINT_VPC", key_id, secret))
    b2 = op("DescribeVSwitches", as_user.describe_vswitches, vpc_models.DescribeVSwitchesRequest(region_id=REGION, vpc_id=VPC))
    assert b2.total_count == 2
    op("UpdateAccessKey", ram.update_access_key,
       ram_models.UpdateAccessKeyRequest(user_name=user, user_access_key_id=key_id, status="Inactive"))
    expect_error("DescribeVSwitches", "InvalidAccessKeyId.Inactive", 400, as_user.describe_vswitches,
                 vpc_models.DescribeVSwitchesRequest(region_id=REGION))
    b = op("ListAccessKeys", ram.list_access_keys, ram_models.ListAccessKeysRequest(user_name=user))
    assert [(k.access_key_id, k.status) for k in b.access_keys.access_key] == [(key_id, "Inactive")]
    assert "AccessKeySecret" not in json.dumps(b.to_map())
    b = op("CreateAccessKey", ram.create_access_key, ram_models.CreateAccessKeyRequest(user_name=user))
    second = b.access_key.access_key_id
    expect_error("CreateAccessKey", "LimitExceeded.User.AccessKey", 409, ram.create_access_key,
                 ram_models.CreateAccessKeyRequest(user_name=user))
    expect_error("DeleteUser", "DeleteConflict.User.AccessKey", 409, ram.delete_user, ram_models.DeleteUserRequest(user_name=user))
    for k in (key_id, second):
        op("DeleteAccessKey", ram.delete_access_key, ram_models.DeleteAccessKeyRequest(user_name=user, user_access_key_id=k))
    expect_error("DeleteAccessKey", "EntityNotExist.User.AccessKey", 404, ram.delete_access_key,
                 ram_models.DeleteAccessKeyRequest(user_name=user, user_access_key_id=key_id))
    expect_error("UpdateAccessKey", "EntityNotExist.User.AccessKey", 404, ram.update_access_key,
                 ram_models.UpdateAccessKeyRequest(user_name=user, user_access_key_id=key_id, status="Active"))
    expect_error("DescribeVSwitches", "InvalidAccessKeyId.NotFound", 404, as_user.describe_vswitches,
                 vpc_models.DescribeVSwitchesRequest(region_id=REGION))

    expect_error("DeleteUser", "DeleteConflict.User.Policy", 409, ram.delete_user, ram_models.DeleteUserRequest(user_name=user))
    detach = ram_models.DetachPolicyFromUserRequest(policy_type="Custom", policy_name=policy, user_name=user)
    op("DetachPolicyFromUser", ram.detach_policy_from_user, detach)
    expect_error("DetachPolicyFromUser", "EntityNotExist.User.Policy", 404, ram.detach_policy_from_user, detach)
    op("DeleteUser", ram.delete_user, ram_models.DeleteUserRequest(user_name=user))
    expect_error("GetUser", "EntityNotExist.User", 404, ram.get_user, ram_models.GetUserRequest(user_name=user))
    expect_error("ListAccessKeys", "EntityNotExist.User", 404, ram.list_access_keys, ram_models.ListAccessKeysRequest(user_name=user))

    expect_error("DeletePolicy", "DeleteConflict.Policy.Version", 409, ram.delete_policy,
                 ram_models.DeletePolicyRequest(policy_name=policy))
    expect_error("DeletePolicyVersion", "DeleteConflict.Policy.Version.Default", 409, ram.delete_policy_version,
                 ram_models.DeletePolicyVersionRequest(policy_name=policy, version_id="v2"))
    op("DeletePolicyVersion", ram.delete_policy_version, ram_models.DeletePolicyVersionRequest(policy_name=policy, version_id="v1"))
    op("DeletePolicy", ram.delete_policy, ram_models.DeletePolicyRequest(policy_name=policy))
    expect_error("GetPolicy", "EntityNotExist.Policy", 404, ram.get_policy,
                 ram_models.GetPolicyRequest(policy_name=policy, policy_type="Custom"))
    state = admin("state")
    assert state["ram"]["users"] == [] and state["ram"]["custom_policies"] == [], state["ram"]


def test_credentials_and_signatures():
    wrong = RamClient(config("HYBRID_ENDPOINT_RAM", secret="not-the-secret"))
    e = expect_error("GetUser", "SignatureDoesNotMatch", 400, wrong.get_user, ram_models.GetUserRequest(user_name="x"))
    assert "not-the-secret" not in str(e.message) and ENV["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] not in str(e.message)
    unknown = RamClient(config("HYBRID_ENDPOINT_RAM", key_id="LTAI5tUnknownKey000000000", secret="x"))
    expect_error("GetUser", "InvalidAccessKeyId.NotFound", 404, unknown.get_user, ram_models.GetUserRequest(user_name="x"))
    sts = RamClient(config("HYBRID_ENDPOINT_RAM", ENV["HYBRID_SANDBOX_STS_ACCESS_KEY_ID"],
                           ENV["HYBRID_SANDBOX_STS_ACCESS_KEY_SECRET"], ENV["HYBRID_SANDBOX_STS_SECURITY_TOKEN"]))
    expect_error("GetUser", "EntityNotExist.User", 404, sts.get_user, ram_models.GetUserRequest(user_name="nobody"))
    bad_token = RamClient(config("HYBRID_ENDPOINT_RAM", ENV["HYBRID_SANDBOX_STS_ACCESS_KEY_ID"],
                                 ENV["HYBRID_SANDBOX_STS_ACCESS_KEY_SECRET"], "CAISforged"))
    expect_error("GetUser", "InvalidSecurityToken.Malformed", 400, bad_token.get_user, ram_models.GetUserRequest(user_name="x"))
    expired = admin("sts", {"ttl_seconds": -60})
    old = CsClient(config("HYBRID_ENDPOINT_CS", expired["AccessKeyId"], expired["AccessKeySecret"], expired["SecurityToken"]))
    expect_error("DescribeClusterDetail", "InvalidSecurityToken.Expired", 400, old.describe_cluster_detail, CLUSTER)


# --- VPC and ECS --------------------------------------------------------------------------------

def test_vswitches_and_security_groups():
    b = op("DescribeVSwitches", vpc.describe_vswitches, vpc_models.DescribeVSwitchesRequest(region_id=REGION, vpc_id=VPC))
    assert b.total_count == 2 and b.page_number == 1 and b.page_size == 10 and b.request_id
    got = {v.zone_id: [v.v_switch_id] for v in b.v_switches.v_switch}
    assert got == VSWITCHES, (got, VSWITCHES)
    assert all(v.vpc_id == VPC and v.status == "Available" and v.cidr_block.startswith("192.168.") for v in b.v_switches.v_switch)
    zone = sorted(VSWITCHES)[1]
    b = op("DescribeVSwitches", vpc.describe_vswitches,
           vpc_models.DescribeVSwitchesRequest(region_id=REGION, vpc_id=VPC, zone_id=zone))
    assert [v.v_switch_id for v in b.v_switches.v_switch] == VSWITCHES[zone]
    b = op("DescribeVSwitches", vpc.describe_vswitches,
           vpc_models.DescribeVSwitchesRequest(region_id=REGION, v_switch_id=ENV["HYBRID_SANDBOX_FOREIGN_VSWITCH_ID"]))
    assert b.total_count == 1 and b.v_switches.v_switch[0].vpc_id != VPC
    b = op("DescribeVSwitches", vpc.describe_vswitches,
           vpc_models.DescribeVSwitchesRequest(region_id=REGION, page_size=2, page_number=2))
    assert b.total_count == 3 and len(b.v_switches.v_switch) == 1

    b = op("DescribeSecurityGroups", ecs.describe_security_groups,
           ecs_models.DescribeSecurityGroupsRequest(region_id=REGION, vpc_id=VPC))
    assert [g.security_group_id for g in b.security_groups.security_group] == [SECURITY_GROUP]
    assert b.total_count == 1 and b.region_id == REGION and b.security_groups.security_group[0].vpc_id == VPC
    ids = json.dumps([SECURITY_GROUP, ENV["HYBRID_SANDBOX_FOREIGN_SECURITY_GROUP_ID"]])
    b = op("DescribeSecurityGroups", ecs.describe_security_groups,
           ecs_models.DescribeSecurityGroupsRequest(region_id=REGION, security_group_ids=ids))
    assert b.total_count == 2
    expect_error("DescribeSecurityGroups", "MissingParameter", 400, ecs.describe_security_groups,
                 ecs_models.DescribeSecurityGroupsRequest())


# --- CS -----------------------------------------------------------------------------------------

def test_cluster_and_addon_catalog():
    b = op("DescribeClusterDetail", cs.describe_cluster_detail, CLUSTER)
    assert b.cluster_id == CLUSTER and b.cluster_type == "ExternalKubernetes" and b.state == "running"
    assert b.region_id == REGION and b.vpc_id == VPC and b.current_version
    expect_error("DescribeClusterDetail", "ErrorClusterNotFound", 404, cs.describe_cluster_detail, "c-missing")
    b = op("ListAddons", cs.list_addons, cs_models.ListAddonsRequest(cluster_id=CLUSTER, region_id=REGION))
    terway = [a for a in b.addons if a.name == "terway-eniip"]
    assert terway and terway[0].version == "v1.17.5" and terway[0].category == "network"
    b = op("DescribeAddon", cs.describe_addon, "terway-eniip", cs_models.DescribeAddonRequest(
        cluster_id=CLUSTER, region_id=REGION, version="v1.16.6"))
    assert b.name == "terway-eniip" and b.version == "v1.16.6"
    assert [v.version for v in b.newer_versions] == ["v1.17.5", "v1.17.2"]


def test_terway_addon_lifecycle():
    expect_error("DescribeClusterAddonInstance", "ErrorAddonNotFound", 404, cs.describe_cluster_addon_instance,
                 CLUSTER, "terway-eniip")
    bad = cs_models.InstallClusterAddonsRequest(body=[cs_models.InstallClusterAddonsRequestBody(
        name="terway-eniip", version="v0.0.1", config="")])
    expect_error("InstallClusterAddons", "InvalidParameter", 400, cs.install_cluster_addons, CLUSTER, bad)

    req = cs_models.InstallClusterAddonsRequest(body=[cs_models.InstallClusterAddonsRequestBody(
        name="terway-eniip", version="v1.17.2", config="")])
    b = op("InstallClusterAddons", cs.install_cluster_addons, CLUSTER, req)
    assert b.task_id.startswith("T-") and b.cluster_id == CLUSTER and b.request_id
    running = op("DescribeClusterAddonInstance", cs.describe_cluster_addon_instance, CLUSTER, "terway-eniip")
    assert running.state in ("installing", "active")
    task = wait_task(b.task_id)
    assert task.state == "success" and task.task_type == "cluster_addon_install", task.to_map()
    assert [r.data for r in task.task_result] == ["terway-eniip"]
    ds = kube_get(TERWAY_DS)
    assert ds is not None, "installing terway-eniip creates its DaemonSet"
    spec = ds["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"alibabacloud.com/external": "true"}
    assert spec["containers"][0]["image"] == f"registry-{REGION}-vpc.ack.aliyuncs.com/acs/terway:v1.17.2"
    expect_error("InstallClusterAddons", "ErrorAddonAlreadyInstalled", 400, cs.install_cluster_addons, CLUSTER, req)

    b = op("DescribeClusterAddonInstance", cs.describe_cluster_addon_instance, CLUSTER, "terway-eniip")
    assert (b.name, b.version, b.state, b.config) == ("terway-eniip", "v1.17.2", "active", "")
    b = op("GetClusterAddonInstance", cs.get_cluster_addon_instance, CLUSTER, "terway-eniip")
    assert (b.name, b.version, b.state) == ("terway-eniip", "v1.17.2", "active") and b.logging.capable is False
    b = op("ListClusterAddonInstances", cs.list_cluster_addon_instances, CLUSTER)
    assert [(a.name, a.version, a.state) for a in b.addons] == [("terway-eniip", "v1.17.2", "active")]
    b = op("DescribeClusterAddonsVersion", cs.describe_cluster_addons_version, CLUSTER)
    assert b["terway-eniip"]["version"] == "v1.17.2" and b["terway-eniip"]["next_version"] == "v1.17.5"
    assert b["terway-eniip"]["can_upgrade"] is True and b["logtail-ds"]["exist"] is False

    config = json.dumps({"NetworkPolicy": "true"})
    op_none = cs.modify_cluster_addon(CLUSTER, "terway-eniip", cs_models.ModifyClusterAddonRequest(config=config))
    called.add("ModifyClusterAddon")
    assert op_none.status_code == 200
    b = op("DescribeClusterAddonInstance", cs.describe_cluster_addon_instance, CLUSTER, "terway-eniip")
    assert json.loads(b.config) == {"NetworkPolicy": "true"}
    expect_error("ModifyClusterAddon", "InvalidParameter", 400, cs.modify_cluster_addon, CLUSTER, "terway-eniip",
                 cs_models.ModifyClusterAddonRequest(config="not json"))

    up = cs_models.UpgradeClusterAddonsRequest(body=[cs_models.UpgradeClusterAddonsRequestBody(
        component_name="terway-eniip", next_version="v1.17.5")])
    b = op("UpgradeClusterAddons", cs.upgrade_cluster_addons, CLUSTER, up)
    status = op("DescribeClusterAddonsUpgradeStatus", cs.describe_cluster_addons_upgrade_status, CLUSTER,
                cs_models.DescribeClusterAddonsUpgradeStatusRequest(component_ids=["terway-eniip"]))
    assert status["terway-eniip"]["tasks"]["state"] in ("running", "success"), status
    expect_error("ModifyClusterAddon", "ErrorClusterState", 400, cs.modify_cluster_addon, CLUSTER, "terway-eniip",
                 cs_models.ModifyClusterAddonRequest(config=config))
    assert wait_task(b.task_id).state == "success"
    status = op("DescribeClusterAddonsUpgradeStatus", cs.describe_cluster_addons_upgrade_status, CLUSTER,
                cs_models.DescribeClusterAddonsUpgradeStatusRequest(component_ids=["terway-eniip"]))
    assert status["terway-eniip"]["tasks"]["state"] == "success" and status["terway-eniip"]["addon_info"]["version"] == "v1.17.5"
    assert kube_get(TERWAY_DS)["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v1.17.5")

    un = cs_models.UnInstallClusterAddonsRequest(addons=[cs_models.UnInstallClusterAddonsRequestAddons(name="terway-eniip")])
    b = op("UnInstallClusterAddons", cs.un_install_cluster_addons, CLUSTER, un)
    assert wait_task(b.task_id).state == "success"
    assert kube_get(TERWAY_DS) is None, "uninstalling terway-eniip removes its DaemonSet"
    expect_error("GetClusterAddonInstance", "ErrorAddonNotFound", 404, cs.get_cluster_addon_instance, CLUSTER, "terway-eniip")
    expect_error("UnInstallClusterAddons", "ErrorAddonNotFound", 404, cs.un_install_cluster_addons, CLUSTER, un)

    # A task made to fail leaves nothing installed.
    admin("faults", {"fail_next": ["task-failure"]})
    b = op("InstallClusterAddons", cs.install_cluster_addons, CLUSTER, req)
    task = wait_task(b.task_id)
    assert task.state == "failed" and task.error.code, task.to_map()
    assert kube_get(TERWAY_DS) is None
    b = op("ListClusterAddonInstances", cs.list_cluster_addon_instances, CLUSTER)
    assert b.addons == []
    expect_error("DescribeTaskInfo", "ErrorTaskNotFound", 404, cs.describe_task_info, "T-missing")


def test_node_pools_and_nodes():
    b = op("DescribeClusterNodePools", cs.describe_cluster_node_pools, CLUSTER, cs_models.DescribeClusterNodePoolsRequest())
    pools = {p.nodepool_info.nodepool_id: p for p in b.nodepools}
    assert sorted(pools) == sorted(NODE_POOLS)
    assert sorted(p.nodepool_info.name for p in b.nodepools) == ["np-cloud-h", "np-cloud-i"]
    pool_id = NODE_POOLS[0]
    assert pools[pool_id].kubernetes_config.labels == [] and pools[pool_id].status.total_nodes == 1
    b = op("DescribeClusterNodePools", cs.describe_cluster_node_pools, CLUSTER,
           cs_models.DescribeClusterNodePoolsRequest(nodepool_name="np-cloud-i"))
    assert [p.nodepool_info.name for p in b.nodepools] == ["np-cloud-i"]
    b = op("DescribeClusterNodePoolDetail", cs.describe_cluster_node_pool_detail, CLUSTER, pool_id)
    assert b.nodepool_info.nodepool_id == pool_id and b.status.state == "active"
    assert b.scaling_group.vswitch_ids and b.scaling_group.security_group_id == SECURITY_GROUP

    b = op("DescribeClusterNodes", cs.describe_cluster_nodes, CLUSTER, cs_models.DescribeClusterNodesRequest(nodepool_id=pool_id))
    assert b.page.total_count == 1 and len(b.nodes) == 1
    node = b.nodes[0]
    assert node.nodepool_id == pool_id and node.is_aliyun_node is True and node.instance_id.startswith("i-")
    b = op("DescribeClusterNodes", cs.describe_cluster_nodes, CLUSTER, cs_models.DescribeClusterNodesRequest())
    assert b.page.total_count >= 3 and any(n.is_aliyun_node is False for n in b.nodes)

    def modify(labels):
        req = cs_models.ModifyClusterNodePoolRequest(
            kubernetes_config=cs_models.ModifyClusterNodePoolRequestKubernetesConfig(
                labels=[cs_models.Tag(key=k, value=v) for k, v in labels]),
            update_nodes=True)
        b = op("ModifyClusterNodePool", cs.modify_cluster_node_pool, CLUSTER, pool_id, req)
        assert b.nodepool_id == pool_id and b.task_id
        assert wait_task(b.task_id).state == "success"

    def node_labels():
        return kube_get("/api/v1/nodes/" + node.node_name)["metadata"]["labels"]

    modify([("alibabacloud.com/external", "true"), ("team", "network")])
    b = op("DescribeClusterNodePoolDetail", cs.describe_cluster_node_pool_detail, CLUSTER, pool_id)
    assert [(t.key, t.value) for t in b.kubernetes_config.labels] == [("alibabacloud.com/external", "true"), ("team", "network")]
    assert node_labels()["team"] == "network"
    # The label list is replaced as a whole; keys the pool dropped leave its Nodes.
    modify([("alibabacloud.com/external", "true")])
    labels = node_labels()
    assert "team" not in labels and labels["alibabacloud.com/external"] == "true"
    expect_error("ModifyClusterNodePool", "InvalidParameter", 400, cs.modify_cluster_node_pool, CLUSTER, pool_id,
                 cs_models.ModifyClusterNodePoolRequest(kubernetes_config=cs_models.ModifyClusterNodePoolRequestKubernetesConfig(
                     labels=[cs_models.Tag(key="bad key", value="x")])))
    expect_error("DescribeClusterNodePoolDetail", "ErrorNodePoolNotFound", 404, cs.describe_cluster_node_pool_detail,
                 CLUSTER, "np-missing")


def test_faults_reach_the_sdk():
    admin("faults", {"fail_next": ["throttle", "503"], "retry_after_ms": 1500})
    e = expect_error("GetUser", "Throttling.User", 400, ram.get_user, ram_models.GetUserRequest(user_name="x"))
    assert getattr(e, "retry_after", None) == 1500, "x-acs-retry-after reaches the SDK"
    expect_error("DescribeClusterDetail", "ServiceUnavailable", 503, cs.describe_cluster_detail, CLUSTER)
    admin("faults", {"fail_next": ["throttle"]})
    expect_error("DescribeClusterDetail", "Throttling.User", 429, cs.describe_cluster_detail, CLUSTER)
    admin("faults", None, method="DELETE")


TESTS = [
    test_ram_user_policy_and_keys,
    test_credentials_and_signatures,
    test_vswitches_and_security_groups,
    test_cluster_and_addon_catalog,
    test_terway_addon_lifecycle,
    test_node_pools_and_nodes,
    test_faults_reach_the_sdk,
]


def main():
    failed = 0
    for t in TESTS:
        try:
            t()
            print(f"ok   {t.__name__}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}", flush=True)
            traceback.print_exc()
    missing = REQUIRED_OPERATIONS - called
    if missing:
        failed += 1
        print(f"FAIL operations never called through the SDK: {sorted(missing)}", flush=True)
    print(f"{len(TESTS) - failed if failed <= len(TESTS) else 0}/{len(TESTS)} passed; "
          f"{len(called & REQUIRED_OPERATIONS)} operations called", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
