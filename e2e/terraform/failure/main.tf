# The configuration TestTerraformCreateWorkspaceFailure applies against
# wsim: a WorkSpace in a directory that was never registered with
# WorkSpaces. CreateWorkspaces answers 200 with the request in
# FailedRequests, which the provider turns into the apply's error.

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
  description = "A Directory Service id that is not registered with WorkSpaces."
  type        = string
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = var.account
  secret_key                  = "wsim-secret"
  skip_metadata_api_check     = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true

  endpoints {
    workspaces = var.endpoint
  }
}

resource "aws_workspaces_workspace" "orphan" {
  directory_id = var.directory_id
  bundle_id    = "wsb-clj85qzj1"
  user_name    = "jdoe"

  workspace_properties {
    compute_type_name    = "STANDARD"
    root_volume_size_gib = 80
    user_volume_size_gib = 50
    running_mode         = "ALWAYS_ON"
  }
}
