// Package deploy holds the files that run coverage-server on Kubernetes: the
// container image's Dockerfile, plain manifests under kubernetes/ (a
// Deployment, a headless Service for gRPC clients that balance over DNS, a
// ClusterIP Service for REST clients and a PodDisruptionBudget, listed in a
// kustomization) and the runbook in README.md. It has no code; its test
// checks the manifests against each other and against the server's flags.
package deploy
