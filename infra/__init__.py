"""Deployment tooling: template and IAM policy generation, packaging, deployment (not deployed itself)."""
