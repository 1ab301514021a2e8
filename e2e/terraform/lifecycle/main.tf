# The configuration e2e/terraform_test.go applies against wsim: an IP access
# control group, a directory registered with its property blocks and the
# group, and a WorkSpace on Amazon's public "Value with Windows 10" bundle,
# looked up by id and by owner and name. `updated = true` changes each of
# them in place and moves the directory to a second IP group.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "endpoint" {
  description = "wsim's URL; it answers WorkSpaces and STS on the same port."
  type        = string
}

variable "account" {
  description = "The 12-digit account id wsim serves the access key as."
  type        = string
}

variable "directory_id" {
  description = "A Directory Service id; wsim's friendly directories take any well-formed one."
  type        = string
}

variable "updated" {
  description = "false: the configuration as first applied; true: every resource changed in place."
  type        = bool
  default     = false
}

provider "aws" {
  region     = "us-east-1"
  access_key = var.account
  secret_key = "wsim-secret"

  # The provider still asks STS who it is (GetCallerIdentity, answered by
  # wsim); only the EC2 instance metadata endpoint is left alone.
  skip_metadata_api_check = true

  endpoints {
    workspaces = var.endpoint
    sts        = var.endpoint
  }
}

data "aws_caller_identity" "current" {}

data "aws_workspaces_bundle" "by_id" {
  bundle_id = "wsb-bh8rsxt14"
}

data "aws_workspaces_bundle" "by_name" {
  owner = "AMAZON"
  name  = data.aws_workspaces_bundle.by_id.name
}

resource "aws_workspaces_ip_group" "office" {
  name        = "wsim-tf-office"
  description = "Office networks"

  rules {
    source      = "10.0.0.0/16"
    description = "head office"
  }

  dynamic "rules" {
    for_each = var.updated ? ["192.168.10.0/24"] : ["172.16.0.0/12"]
    content {
      source      = rules.value
      description = var.updated ? "branch office" : "vpn"
    }
  }

  tags = {
    team = "euc"
    step = var.updated ? "updated" : "created"
  }
}

# A second group, made by the update, takes the office group's place on the
# directory: the provider associates the one and disassociates the other.
resource "aws_workspaces_ip_group" "branch" {
  count = var.updated ? 1 : 0

  name = "wsim-tf-branch"

  rules {
    source = "192.168.20.0/24"
  }
}

resource "aws_workspaces_directory" "corp" {
  directory_id = var.directory_id
  ip_group_ids = var.updated ? [aws_workspaces_ip_group.branch[0].id] : [aws_workspaces_ip_group.office.id]

  self_service_permissions {
    change_compute_type  = var.updated
    increase_volume_size = true
    rebuild_workspace    = false
    restart_workspace    = true
    switch_running_mode  = var.updated
  }

  workspace_access_properties {
    device_type_android    = "ALLOW"
    device_type_chromeos   = "ALLOW"
    device_type_ios        = "ALLOW"
    device_type_linux      = var.updated ? "ALLOW" : "DENY"
    device_type_osx        = "ALLOW"
    device_type_web        = "DENY"
    device_type_windows    = "ALLOW"
    device_type_zeroclient = var.updated ? "DENY" : "ALLOW"
  }

  workspace_creation_properties {
    default_ou                          = "OU=WorkSpaces,DC=corp,DC=example,DC=com"
    enable_internet_access              = var.updated
    enable_maintenance_mode             = true
    user_enabled_as_local_administrator = !var.updated
  }

  tags = {
    team = "euc"
    step = var.updated ? "updated" : "created"
  }
}

resource "aws_workspaces_workspace" "jdoe" {
  directory_id = aws_workspaces_directory.corp.id
  bundle_id    = data.aws_workspaces_bundle.by_name.id
  user_name    = "jdoe"

  workspace_properties {
    compute_type_name                         = "VALUE"
    root_volume_size_gib                      = 80
    user_volume_size_gib                      = 10
    running_mode                              = "AUTO_STOP"
    running_mode_auto_stop_timeout_in_minutes = var.updated ? 120 : 60
  }

  tags = {
    team = "euc"
    step = var.updated ? "updated" : "created"
  }
}

# The data sources find what was made: the WorkSpace by directory and user
# name (DescribeWorkspaces' DirectoryId and UserName filter), the directory
# by id.
data "aws_workspaces_workspace" "by_user" {
  directory_id = aws_workspaces_workspace.jdoe.directory_id
  user_name    = aws_workspaces_workspace.jdoe.user_name
}

data "aws_workspaces_directory" "corp" {
  directory_id = aws_workspaces_directory.corp.id
}

output "account_id" {
  value = data.aws_caller_identity.current.account_id
}

output "bundle" {
  value = {
    id           = data.aws_workspaces_bundle.by_id.id
    name         = data.aws_workspaces_bundle.by_id.name
    owner        = data.aws_workspaces_bundle.by_id.owner
    by_name_id   = data.aws_workspaces_bundle.by_name.id
    compute_type = data.aws_workspaces_bundle.by_id.compute_type[0].name
    root         = data.aws_workspaces_bundle.by_id.root_storage[0].capacity
    user         = data.aws_workspaces_bundle.by_id.user_storage[0].capacity
  }
}

output "ip_group_id" {
  value = aws_workspaces_ip_group.office.id
}

output "branch_ip_group_id" {
  value = var.updated ? aws_workspaces_ip_group.branch[0].id : ""
}

output "directory" {
  value = {
    id                = aws_workspaces_directory.corp.id
    registration_code = aws_workspaces_directory.corp.registration_code
  }
}

output "workspace" {
  value = {
    id      = aws_workspaces_workspace.jdoe.id
    state   = aws_workspaces_workspace.jdoe.state
    by_user = data.aws_workspaces_workspace.by_user.id
  }
}

output "directory_data" {
  value = {
    id                = data.aws_workspaces_directory.corp.id
    registration_code = data.aws_workspaces_directory.corp.registration_code
    ip_group_ids      = join(",", data.aws_workspaces_directory.corp.ip_group_ids)
    tags              = join(",", [for k, v in data.aws_workspaces_directory.corp.tags : "${k}=${v}"])
  }
}
