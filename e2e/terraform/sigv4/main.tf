# The configuration e2e/auth_terraform_test.go applies against a wsim that
# verifies signatures (--auth sigv4): one IP access control group, created
# with the access key and secret of the test's credentials file.

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

variable "access_key" {
  type = string
}

variable "secret_key" {
  type      = string
  sensitive = true
}

provider "aws" {
  region     = "us-east-1"
  access_key = var.access_key
  secret_key = var.secret_key

  skip_metadata_api_check = true

  endpoints {
    workspaces = var.endpoint
    sts        = var.endpoint
  }
}

resource "aws_workspaces_ip_group" "signed" {
  name        = "signed"
  description = "Created with verified signatures"

  rules {
    source      = "10.0.0.0/16"
    description = "office"
  }

  tags = {
    team = "platform"
  }
}

data "aws_caller_identity" "current" {}

output "ip_group_id" {
  value = aws_workspaces_ip_group.signed.id
}

output "caller_arn" {
  value = data.aws_caller_identity.current.arn
}
