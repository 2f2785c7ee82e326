// Package geometry computes, exactly, the area of a planar region covered by
// equal disks: area(∪ disks ∩ A) for a polygonal region A with holes. It
// integrates x dy − y dx (Green's theorem) over the boundary of the covered
// part, which is made of circle arcs (closed form) and pieces of A's edges
// (exact), so no circle is approximated by a polygon. Grid indexes over the
// stops and over A's edges keep the cost near N·k + V for N stops with k
// neighbours each and V vertices. The gaps (A less the disks) are that
// boundary walked the other way, chained into rings: their areas stay
// exact, and only their drawn outlines replace arcs by chords. Coordinates
// are metres in an equal-area plane; package geo projects
// longitude/latitude into one.
package geometry
