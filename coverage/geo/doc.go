// Package geo turns longitude/latitude input into the metric plane where
// coverage is measured: it converts the Chinese map datums GCJ-02 and BD-09
// to WGS-84 (CGCS2000 is taken as WGS-84), projects with the ellipsoidal
// Lambert azimuthal equal-area projection (EPSG method 9820) centred on the
// area, and decodes and validates the GeoJSON the API accepts.
package geo
