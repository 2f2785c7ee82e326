// Package openapi carries the OpenAPI v2 description of the REST gateway,
// generated from the coverage.v1 protos by protoc-gen-openapiv2.
package openapi

import _ "embed"

// Spec is the OpenAPI v2 (Swagger) document of the REST/JSON API.
//
//go:embed coverage.swagger.json
var Spec []byte
