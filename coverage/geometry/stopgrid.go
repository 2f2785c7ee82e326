package geometry

import (
	"context"
	"math"
	"slices"
	"sync"
)

// stopGrid indexes distinct stops in cells of half the radius, with the cell
// offsets around a cell ordered by distance so neighbour searches can visit
// the nearest stops first.
type stopGrid struct {
	origin Point
	size   float64
	nx, ny int
	pts    []Point
	start  []int32
	items  []int32
	// offsets are the cells, relative to a stop's own, that can hold a stop
	// within 2r, nearest first.
	offsets [][2]int
	far     int // distinct stops dropped because no disk of theirs can reach the region
	// touch bounds 4r² − d², the square of two disks' common chord, under
	// which they are taken to touch (see freeArcs): touchChord2·r·M, M the
	// largest coordinate a kept stop can have, or r.
	touch float64
}

const maxStopCells = 1 << 24

func newStopGrid(ctx context.Context, stops []Point, regionMin, regionMax Point, radius float64) (*stopGrid, error) {
	lo := Point{regionMin.X - radius, regionMin.Y - radius}
	hi := Point{regionMax.X + radius, regionMax.Y + radius}
	// Cells of r/2 let a dense network stop the neighbour search after the
	// first few cells; a sparse one is cheaper to search in cells of r.
	g := &stopGrid{size: radius}
	if expected := float64(len(stops)) / ((hi.X - lo.X) * (hi.Y - lo.Y)) * 4 * math.Pi * radius * radius; expected > 24 {
		g.size = radius / 2
	}
	for ((hi.X-lo.X)/g.size+1)*((hi.Y-lo.Y)/g.size+1) > maxStopCells {
		g.size *= 1.5
	}
	g.origin = lo
	g.touch = touchBound(lo, hi, radius)
	g.nx = int((hi.X-lo.X)/g.size) + 1
	g.ny = int((hi.Y-lo.Y)/g.size) + 1

	// Keep the stops whose disk can reach the region's bounding box; count
	// the others once per distinct position, like the kept ones.
	kept := make([]Point, 0, len(stops))
	var far []Point
	for _, p := range stops {
		if !(p.X >= lo.X && p.Y >= lo.Y && p.X <= hi.X && p.Y <= hi.Y) {
			far = append(far, p)
			continue
		}
		kept = append(kept, p)
	}
	slices.SortFunc(far, comparePoints)
	g.far = len(slices.Compact(far))
	cells := g.nx * g.ny
	cellOf := make([]int32, len(kept))
	g.start = make([]int32, cells+1)
	for i, p := range kept {
		x, y := g.cellOf(p)
		c := int32(min(y, g.ny-1)*g.nx + min(x, g.nx-1))
		cellOf[i] = c
		g.start[c+1]++
	}
	for c := 0; c < cells; c++ {
		g.start[c+1] += g.start[c]
	}
	order := make([]int32, len(kept))
	fill := slices.Clone(g.start[:cells])
	for i, c := range cellOf {
		order[fill[c]] = int32(i)
		fill[c]++
	}
	// Merge duplicates within each cell (equal points share a cell), and
	// store the points in cell order for locality.
	g.pts = make([]Point, 0, len(kept))
	g.items = make([]int32, 0, len(kept))
	newStart := make([]int32, cells+1)
	for c := 0; c < cells; c++ {
		// Sorting the cells is most of the grid's time on a large network.
		if c%cancelCells == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		members := order[g.start[c]:g.start[c+1]]
		slices.SortFunc(members, func(a, b int32) int { return comparePoints(kept[a], kept[b]) })
		for k, m := range members {
			if k > 0 && kept[m] == kept[members[k-1]] {
				continue
			}
			g.items = append(g.items, int32(len(g.pts)))
			g.pts = append(g.pts, kept[m])
		}
		newStart[c+1] = int32(len(g.items))
	}
	g.start = newStart

	// A stop within 2r of another lies at most ⌈2r/size⌉ cells away.
	g.offsets = neighbourOffsets(int(math.Ceil(2*radius/g.size)), 2*radius/g.size)
	return g, nil
}

// cancelCells is how many grid cells are sorted between checks for
// cancellation.
const cancelCells = 4096

var (
	offsetsMu    sync.Mutex
	offsetsCache = map[[2]float64][][2]int{}
)

// neighbourOffsets lists the cell offsets within reach whose cells can hold
// a point closer than span cells to a point of the centre cell, nearest
// first (by the gap between the two cells). Shared and cached: it depends
// only on how the radius compares with the cell.
func neighbourOffsets(reach int, span float64) [][2]int {
	offsetsMu.Lock()
	defer offsetsMu.Unlock()
	key := [2]float64{float64(reach), span}
	if o, ok := offsetsCache[key]; ok {
		return o
	}
	gap := func(v int) int { return max(abs(v)-1, 0) }
	var o [][2]int
	for dy := -reach; dy <= reach; dy++ {
		for dx := -reach; dx <= reach; dx++ {
			if g := float64(gap(dx)*gap(dx) + gap(dy)*gap(dy)); g < span*span {
				o = append(o, [2]int{dx, dy})
			}
		}
	}
	slices.SortStableFunc(o, func(a, b [2]int) int {
		return gap(a[0])*gap(a[0]) + gap(a[1])*gap(a[1]) - gap(b[0])*gap(b[0]) - gap(b[1])*gap(b[1])
	})
	offsetsCache[key] = o
	return o
}

func comparePoints(p, q Point) int {
	switch {
	case p.X < q.X:
		return -1
	case p.X > q.X:
		return 1
	case p.Y < q.Y:
		return -1
	case p.Y > q.Y:
		return 1
	}
	return 0
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (g *stopGrid) cellOf(p Point) (int, int) {
	return int(math.Floor((p.X - g.origin.X) / g.size)), int(math.Floor((p.Y - g.origin.Y) / g.size))
}
