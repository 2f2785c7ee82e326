package geometry

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
)

// PlanOptions says what a plan must reach and where it may put stops.
type PlanOptions struct {
	// Target is the share of the region's area to reach, in (0, 1].
	Target float64
	// Candidates are the sites to choose from. When empty, the sites are the
	// points of a grid at Spacing over the part of the region no existing
	// stop covers.
	Candidates []Point
	// Spacing is the grid spacing in metres when Candidates is empty (it
	// must then be > 0). A finer grid offers better-placed sites, at a cost
	// in time and memory that grows with the number of sites (the square of
	// 1/Spacing).
	Spacing float64
	// MaxStops is the most stops the plan may add (> 0).
	MaxStops int
}

// PlannedStop is one stop the plan adds, in the order chosen.
type PlannedStop struct {
	At Point
	// Gain is the area in m² of the region that this stop newly covers,
	// given the existing stops and those chosen before it (exact).
	Gain float64
	// CoveredArea is the area in m² covered once this stop is added.
	CoveredArea float64
	// Share is CoveredArea ÷ the region's area.
	Share float64
}

// Plan is where to add stops so that coverage reaches a target.
type Plan struct {
	// Before is the coverage of the existing stops.
	Before Coverage
	// Added are the stops to add, in the order chosen.
	Added []PlannedStop
	// CoveredArea is the area in m² covered by the existing and the added
	// stops, computed afresh by Cover (the running sum in Added agrees with
	// it to rounding).
	CoveredArea float64
	// Share is CoveredArea ÷ the region's area.
	Share float64
	// Reached reports whether the target is met: Share ≥ Target, to a
	// relative 1e-12 so that a target of 1 can be met despite rounding. It
	// is true exactly when Stopped is StoppedTargetReached.
	Reached bool
	// Candidates is the number of candidate sites considered: the grid
	// points kept, or the caller's distinct sites within the radius of the
	// region's bounding box (the others cannot cover any of it).
	Candidates int
	// LowerBound is the fewest stops that any choice among the candidates
	// could add to reach the target; 0 when the existing stops already reach
	// it. When no choice can reach it (all the candidates together fall
	// short), it is the number of candidates that add any coverage, or
	// ⌈needed area ÷ πr²⌉ if larger: every one of them would be needed, and
	// would still not be enough.
	LowerBound int
	// Stopped says why the plan stopped: one of the Stopped… constants.
	Stopped string
}

// Why a plan stopped.
const (
	StoppedTargetReached = "target reached"
	StoppedStopCap       = "stop cap reached"
	StoppedNoGain        = "no candidate adds coverage"
)

const (
	// maxGridCandidates bounds the default candidate grid: each candidate
	// costs a gain computation up front and memory throughout.
	maxGridCandidates = 2_000_000
	// maxGridScan bounds the grid points tested over the bounding box, for a
	// region that fills little of its box.
	maxGridScan = 8 * maxGridCandidates
	// targetSlack is the relative slack on the target: Cover snaps a wholly
	// covered region to its area at the same slack, and a sum of gains may
	// fall short of the area by rounding.
	targetSlack = 1e-12
	// boundSlack weakens LowerBound by rounding's worth, so that it stays a
	// bound on what the greedy sums of the same computed gains reach.
	boundSlack = 1e-9
	// minGainFactor × r² is the least gain worth a stop: below it a gain is
	// rounding on a sliver, not coverage.
	minGainFactor = 1e-9
	// gainsPerCancelCheck is how many gain computations run between checks
	// for cancellation (a few milliseconds at most).
	gainsPerCancelCheck = 64
	// maxPlanCells bounds the cells of the stop and candidate hashes.
	maxPlanCells = 1 << 20
	// maxGapRounds bounds the rounds of sites taken from the remaining gaps
	// once the grid is spent; each round offers a site in every gap left.
	maxGapRounds = 16
	// sitesPerGap is how many points of a remaining gap's outline are offered.
	sitesPerGap = 8
)

// gapSites are candidate sites in the gaps the stops leave: each gap's
// centroid when it lies in the gap, and points spread along its outer
// outline, whose disks reach into the gap however thin it is.
func (r *Region) gapSites(ctx context.Context, stops []Point, radius float64) ([]Point, error) {
	gaps, err := r.Gaps(ctx, stops, radius, radius*1e-3)
	if err != nil {
		return nil, err
	}
	var sites []Point
	for _, g := range gaps {
		if r.Contains(g.Centroid) && !WithinRadius(stops, radius, []Point{g.Centroid})[0] {
			sites = append(sites, g.Centroid)
		}
		outer := g.Polygon[0]
		step := max(1, len(outer)/sitesPerGap)
		for i := 0; i < len(outer); i += step {
			sites = append(sites, outer[i])
		}
	}
	return sites, nil
}

// PlanStops chooses where to add stops to the existing ones so that the
// share of the region within radius of a stop reaches opt.Target, taking at
// most opt.MaxStops sites from the candidates.
//
// It is the greedy algorithm for maximum coverage: each step adds the
// candidate whose disk newly covers the most area of the region (ties to the
// earlier candidate), with that gain computed exactly, and stops when the
// target is reached, the cap is hit, or no candidate adds anything. The
// covered area is submodular in the stops (a stop adds less to more stops),
// which gives the greedy choice its guarantees relative to the best choice
// among the same candidates, the existing stops being kept:
//
//   - for every k, the first k stops it adds cover at least (1 − 1/e) ≈ 63%
//     of the most additional area any k candidates could cover (Nemhauser,
//     Wolsey and Fisher, 1978);
//   - the number of stops it adds to reach the target is at most
//     1 + ln(first gain ÷ last gain) times the fewest that could (Wolsey,
//     1982), the last gain counting only the part of the last stop's gain
//     that was still needed.
//
// Plan.LowerBound gives a floor on that fewest from the initial gains, so
// len(Added) ÷ LowerBound bounds how far a plan can be from the optimum.
//
// Existing stops may lie anywhere and repeat, as for Cover. Caller-supplied
// candidates are used as given, in order, less repeats; a site outside the
// region may still cover its edge. The default grid is aligned to the
// region's bounding box (points at Spacing/2 + k·Spacing from its minimum
// corner), so the same region and spacing give the same sites; it leaves
// out the points already covered. Ground within a covered point's reach but
// beyond every uncovered point's (a sliver along the boundary, a gap
// narrower than the spacing) is reached once the grid is spent: sites in
// the gaps that remain (their centroids and points of their outlines) are
// then offered, round by round, and Candidates counts them too. The same
// input gives the same plan.
//
// Each gain is computed locally, from the stops within 2r of the site and
// the region's edges within r, and only the gains of sites within 2r of a
// new stop change, so a plan costs about one gain per site plus a few per
// stop added. Invalid options give an *InvalidError naming the option. It
// stops early with the context's error when ctx is cancelled.
func (r *Region) PlanStops(ctx context.Context, stops []Point, radius float64, opt PlanOptions) (Plan, error) {
	if err := opt.validate(radius); err != nil {
		return Plan{}, err
	}
	before, err := r.Cover(ctx, stops, radius)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Before: before}
	p := newPlanner(ctx, r, radius)
	p.addExisting(stops)
	if len(opt.Candidates) > 0 {
		p.userCandidates(opt.Candidates)
	} else if err := p.gridCandidates(opt.Spacing); err != nil {
		return Plan{}, err
	}
	plan.Candidates = len(p.cands)
	p.indexCandidates()

	goal := opt.Target * r.area * (1 - targetSlack)
	covered := before.CoveredArea
	if covered < goal {
		if err := p.initialGains(); err != nil {
			return Plan{}, err
		}
		if plan.LowerBound, err = p.lowerBound(goal - covered); err != nil {
			return Plan{}, err
		}
	}
	minGain := minGainFactor * radius * radius
	var added []Point
	for round := 0; ; round++ {
		for {
			if covered >= goal {
				plan.Stopped = StoppedTargetReached
				break
			}
			if len(plan.Added) >= opt.MaxStops {
				plan.Stopped = StoppedStopCap
				break
			}
			best, err := p.best()
			if err != nil {
				return Plan{}, err
			}
			if best < 0 || p.gains[best] <= minGain {
				plan.Stopped = StoppedNoGain
				break
			}
			g := p.gains[best]
			p.add(best)
			covered += g
			at := p.cands[best]
			added = append(added, at)
			plan.Added = append(plan.Added, PlannedStop{At: at, Gain: g, CoveredArea: covered, Share: Coverage{CoveredArea: covered, TotalArea: r.area}.Share()})
		}
		if plan.Stopped != StoppedNoGain || len(opt.Candidates) > 0 || round == maxGapRounds {
			break
		}
		// The grid has nothing left to give but ground is still uncovered:
		// slivers along the boundary, or gaps narrower than the spacing.
		// Sites in the gaps that remain, which every such gap has, let the
		// plan go on.
		sites, err := r.gapSites(ctx, slices.Concat(stops, added), radius)
		if err != nil {
			return Plan{}, err
		}
		if len(sites) == 0 {
			break
		}
		p = newPlanner(ctx, r, radius)
		p.addExisting(slices.Concat(stops, added))
		p.userCandidates(sites)
		plan.Candidates += len(p.cands)
		p.indexCandidates()
		if err := p.initialGains(); err != nil {
			return Plan{}, err
		}
	}
	plan.Reached = plan.Stopped == StoppedTargetReached

	after := before
	if len(added) > 0 {
		after, err = r.Cover(ctx, slices.Concat(stops, added), radius)
		if err != nil {
			return Plan{}, err
		}
	}
	plan.CoveredArea = after.CoveredArea
	plan.Share = after.Share()
	return plan, nil
}

func (o *PlanOptions) validate(radius float64) error {
	bad := func(reason string) error { return &InvalidError{Polygon: -1, Ring: -1, Reason: reason} }
	if !(radius > 0) || math.IsInf(radius, 0) {
		return bad("radius must be a positive number of metres")
	}
	if !(o.Target > 0 && o.Target <= 1) {
		return bad(fmt.Sprintf("Target must be a share in (0, 1], got %v", o.Target))
	}
	if o.MaxStops <= 0 {
		return bad(fmt.Sprintf("MaxStops must be positive, got %d", o.MaxStops))
	}
	for i, c := range o.Candidates {
		if math.IsNaN(c.X) || math.IsNaN(c.Y) || math.IsInf(c.X, 0) || math.IsInf(c.Y, 0) {
			return bad(fmt.Sprintf("Candidates: candidate %d is not a finite point", i))
		}
	}
	if len(o.Candidates) == 0 && (!(o.Spacing > 0) || math.IsInf(o.Spacing, 0)) {
		return bad(fmt.Sprintf("Spacing must be a positive number of metres when no Candidates are given, got %v", o.Spacing))
	}
	return nil
}

// planner holds the state of one plan: the stops so far in a hash that
// grows as stops are added, the candidates in a fixed hash over the same
// cells, and their gains in a heap.
type planner struct {
	ctx    context.Context
	r      *Region
	radius float64
	r2     float64

	// The cells of both hashes: a point within 2r of another lies at most
	// reach cells away.
	origin Point
	size   float64
	nx, ny int
	reach  int

	stops     []Point
	stopCells [][]int32
	stopArcs  []arcSlot

	cands     []Point
	candArcs  []arcSlot
	candStart []int32 // CSR: candidates of cell c are candItems[candStart[c]:candStart[c+1]]
	candItems []int32

	gains []float64 // current gain of each candidate, or an upper bound on it when stale
	stale []bool    // a stop was added within 2r since the gain was computed
	heap  gainHeap

	w     gainWork
	ticks int
	// touch is Cover's bound for two disks that touch (stopGrid.touch),
	// the same for the same region and radius, so that gains and Cover
	// decide every pair alike.
	touch float64
}

func newPlanner(ctx context.Context, r *Region, radius float64) *planner {
	p := &planner{ctx: ctx, r: r, radius: radius, r2: radius * radius}
	// Every point kept lies within r of the region's bounding box.
	lo := Point{r.min.X - radius, r.min.Y - radius}
	hi := Point{r.max.X + radius, r.max.Y + radius}
	p.touch = touchBound(lo, hi, radius)
	p.origin = lo
	p.size = radius
	for ((hi.X-lo.X)/p.size+1)*((hi.Y-lo.Y)/p.size+1) > maxPlanCells {
		p.size *= 1.5
	}
	p.nx = int((hi.X-lo.X)/p.size) + 1
	p.ny = int((hi.Y-lo.Y)/p.size) + 1
	p.reach = int(math.Ceil(2 * radius / p.size))
	p.stopCells = make([][]int32, p.nx*p.ny)
	p.w.stamp = make([]int32, len(r.edges))
	return p
}

// near reports whether a disk about q can reach the region's bounding box;
// a stop or candidate that cannot changes no gain.
func (p *planner) near(q Point) bool {
	r := p.r
	return q.X >= r.min.X-p.radius && q.X <= r.max.X+p.radius && q.Y >= r.min.Y-p.radius && q.Y <= r.max.Y+p.radius
}

func (p *planner) cell(q Point) int {
	x := int(math.Floor((q.X - p.origin.X) / p.size))
	y := int(math.Floor((q.Y - p.origin.Y) / p.size))
	return min(max(y, 0), p.ny-1)*p.nx + min(max(x, 0), p.nx-1)
}

// cellRange is the block of cells that can hold a point within 2r of q.
func (p *planner) cellRange(q Point) (x0, y0, x1, y1 int) {
	c := p.cell(q)
	cx, cy := c%p.nx, c/p.nx
	return max(cx-p.reach, 0), max(cy-p.reach, 0), min(cx+p.reach, p.nx-1), min(cy+p.reach, p.ny-1)
}

// addExisting puts the distinct existing stops near the region in the hash:
// a repeated stop would hide the boundary of its own disk from the gains.
func (p *planner) addExisting(stops []Point) {
	kept := make([]Point, 0, len(stops))
	for _, s := range stops {
		if p.near(s) {
			kept = append(kept, s)
		}
	}
	slices.SortFunc(kept, comparePoints)
	for _, s := range slices.Compact(kept) {
		p.insertStop(s)
	}
}

func (p *planner) insertStop(s Point) {
	c := p.cell(s)
	p.stopCells[c] = append(p.stopCells[c], int32(len(p.stops)))
	p.stops = append(p.stops, s)
	p.stopArcs = append(p.stopArcs, arcSlot{})
}

// covered reports whether q is within the radius of a stop (distance < r,
// as for the disks).
func (p *planner) covered(q Point) bool {
	x0, y0, x1, y1 := p.cellRange(q)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			for _, j := range p.stopCells[y*p.nx+x] {
				d := p.stops[j].sub(q)
				if dot(d, d) < p.r2 {
					return true
				}
			}
		}
	}
	return false
}

// userCandidates keeps the caller's candidates in order, less repeats and
// those too far from the region to cover any of it.
func (p *planner) userCandidates(cands []Point) {
	seen := make(map[Point]struct{}, len(cands))
	for _, c := range cands {
		if _, dup := seen[c]; dup {
			continue
		}
		seen[c] = struct{}{}
		if p.near(c) {
			p.cands = append(p.cands, c)
		}
	}
}

// gridCandidates lays the default grid: the points at spacing over the
// bounding box that lie inside the region and outside every existing disk.
// A covered point is left out although its disk may reach uncovered ground:
// a nearby uncovered point reaches more of it.
func (p *planner) gridCandidates(spacing float64) error {
	r := p.r
	fx := math.Floor((r.max.X-r.min.X)/spacing + 0.5)
	fy := math.Floor((r.max.Y-r.min.Y)/spacing + 0.5)
	if fx*fy > maxGridScan {
		return &InvalidError{Polygon: -1, Ring: -1, Reason: fmt.Sprintf(
			"Spacing of %g m gives %.3g grid points over the area's bounding box, more than %d; use a larger spacing",
			spacing, fx*fy, maxGridScan)}
	}
	nx, ny := int(fx), int(fy)
	for j := range ny {
		y := r.min.Y + (float64(j)+0.5)*spacing
		for i := range nx {
			if i%4096 == 0 {
				if err := p.ctx.Err(); err != nil {
					return err
				}
			}
			q := Point{r.min.X + (float64(i)+0.5)*spacing, y}
			if !r.Contains(q) || p.covered(q) {
				continue
			}
			if len(p.cands) == maxGridCandidates {
				return &InvalidError{Polygon: -1, Ring: -1, Reason: fmt.Sprintf(
					"Spacing of %g m gives more than %d candidate sites in the uncovered part of the area; use a larger spacing",
					spacing, maxGridCandidates)}
			}
			p.cands = append(p.cands, q)
		}
	}
	return nil
}

// indexCandidates builds the candidate hash, for finding the candidates
// whose gains a new stop changes.
func (p *planner) indexCandidates() {
	cells := p.nx * p.ny
	p.candStart = make([]int32, cells+1)
	of := make([]int32, len(p.cands))
	for i, c := range p.cands {
		k := int32(p.cell(c))
		of[i] = k
		p.candStart[k+1]++
	}
	for c := range cells {
		p.candStart[c+1] += p.candStart[c]
	}
	p.candItems = make([]int32, len(p.cands))
	fill := slices.Clone(p.candStart[:cells])
	for i, k := range of {
		p.candItems[fill[k]] = int32(i)
		fill[k]++
	}
}

// tick checks for cancellation every gainsPerCancelCheck calls.
func (p *planner) tick() error {
	p.ticks++
	if p.ticks%gainsPerCancelCheck == 0 {
		return p.ctx.Err()
	}
	return nil
}

// initialGains computes every candidate's gain over the existing stops and
// heaps them.
func (p *planner) initialGains() error {
	p.gains = make([]float64, len(p.cands))
	p.stale = make([]bool, len(p.cands))
	p.candArcs = make([]arcSlot, len(p.cands))
	for i, c := range p.cands {
		if err := p.tick(); err != nil {
			return err
		}
		p.gains[i] = p.gain(c, &p.candArcs[i])
	}
	p.heap.init(p.gains)
	return p.ctx.Err()
}

// lowerBound is the fewest candidates whose initial gains sum to needed.
// Gains only shrink as stops are added (submodularity), so k stops add at
// most the k largest initial gains: fewer than that many cannot reach the
// target, whichever they are. As a disk adds at most πr², the bound is
// never below ⌈needed ÷ πr²⌉ (kept explicitly, against rounding). The
// largest gains are taken off a copy of the heap rather than sorting them
// all: usually few are needed.
func (p *planner) lowerBound(needed float64) (int, error) {
	needed *= 1 - boundSlack
	floor := int(math.Ceil(needed / (math.Pi * p.r2)))
	total, useful := 0.0, 0
	for _, g := range p.gains {
		if g > 0 {
			total += g
			useful++
		}
	}
	if total < needed {
		return max(useful, floor), nil
	}
	h := gainHeap{gain: p.gains, items: slices.Clone(p.heap.items), pos: slices.Clone(p.heap.pos)}
	k := 0
	for sum := 0.0; sum < needed && len(h.items) > 0; k++ {
		if k%4096 == 0 {
			if err := p.ctx.Err(); err != nil {
				return 0, err
			}
		}
		top := h.items[0]
		sum += p.gains[top]
		h.remove(top)
	}
	return max(k, floor), nil
}

// best returns the candidate with the largest gain (the earlier one on a
// tie), or −1 when none is left. Gains made stale by a nearby stop are
// upper bounds on the true ones: the top is recomputed until it is fresh,
// and a fresh top beats every other candidate's true gain. This picks the
// same candidate as recomputing every stale gain at once, at a fraction of
// the cost, since most stale gains never reach the top again.
func (p *planner) best() (int, error) {
	for len(p.heap.items) > 0 {
		top := p.heap.items[0]
		if !p.stale[top] {
			return int(top), nil
		}
		if err := p.tick(); err != nil {
			return -1, err
		}
		p.gains[top] = p.gain(p.cands[top], &p.candArcs[top])
		p.stale[top] = false
		p.heap.fix(top)
	}
	return -1, nil
}

// add makes candidate i a stop: it leaves the heap, and the gains of the
// candidates within 2r, whose disks overlap its disk, become stale. No
// other gain changes.
func (p *planner) add(i int) {
	c := p.cands[i]
	p.heap.remove(int32(i))
	p.insertStop(c)
	p.stopArcs[len(p.stopArcs)-1] = p.candArcs[i]
	x0, y0, x1, y1 := p.cellRange(c)
	d2max := 4 * p.r2
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			cell := y*p.nx + x
			for _, j := range p.candItems[p.candStart[cell]:p.candStart[cell+1]] {
				if p.heap.pos[j] < 0 {
					continue
				}
				d := p.cands[j].sub(c)
				if dot(d, d) < d2max {
					p.stale[j] = true
				}
			}
		}
	}
}

// gainWork is the scratch space of gain, reused across candidates.
type gainWork struct {
	nb     []Point   // stops within 2r of the candidate
	nbIdx  []int32   // their indices in stops
	phi    []float64 // direction from the candidate to each
	alpha  []float64 // half the angle each disk's circle and the candidate's cut off each other, or −1 where they touch (see freeArcs)
	edges  []int32   // the region's edges within (about) r of the candidate
	stamp  []int32
	gen    int32
	cov    []interval
	free   []interval
	arc    []interval
	pieces []interval
	cross  []float64
	ts     []interval

	insideArcs []interval
	both       []interval
}

// gain is area(A ∩ D(c) \ ∪ D(s)) for the stops s so far, D the open disks
// of the radius. Only the stops within 2r of c matter, and the region's
// edges within r; the area is ½∮(x dy − y dx) around its boundary, which
// is made of
//
//   - the arcs of c's circle that no stop's disk covers and that lie inside
//     A, counter-clockwise;
//   - the arcs of each stop's circle that lie inside D(c), inside A and
//     outside the other stops' disks, clockwise (the area is outside
//     them);
//   - the pieces of A's edges inside D(c) and outside every stop's disk,
//     in their own direction (A on their left).
//
// Everything is integrated relative to c, where coordinates are small, and
// the crossings with A's edges are found by the same code and numbers as
// Cover's, and a pair of disks is taken to touch under the same bound, so
// the two agree on every near-tangent decision.
func (p *planner) gain(c Point, own *arcSlot) float64 {
	w := &p.w
	radius, r2 := p.radius, p.r2
	d2max := 4 * r2

	w.nb, w.nbIdx, w.phi, w.alpha = w.nb[:0], w.nbIdx[:0], w.phi[:0], w.alpha[:0]
	x0, y0, x1, y1 := p.cellRange(c)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			for _, j := range p.stopCells[y*p.nx+x] {
				s := p.stops[j]
				d := s.sub(c)
				d2 := dot(d, d)
				if d2 == 0 {
					return 0 // the same disk
				}
				if d2 < d2max {
					// A disk that touches c's covers edges with it, but no
					// arc of it, as in Cover.
					alpha := -1.0
					if d2max-d2 > p.touch {
						alpha = math.Acos(min(1, math.Sqrt(d2)/(2*radius)))
					}
					w.nb = append(w.nb, s)
					w.nbIdx = append(w.nbIdx, j)
					w.phi = append(w.phi, math.Atan2(d.Y, d.X))
					w.alpha = append(w.alpha, alpha)
				}
			}
		}
	}

	p.nearEdges(c)
	allInside := len(w.edges) == 0
	if allInside {
		// No edge reaches the disk: it lies wholly inside A or wholly outside.
		if !p.r.Contains(c) {
			return 0
		}
		if len(w.nb) == 0 {
			return math.Pi * r2
		}
	}

	// c's circle, less the arcs the stops' disks cover.
	w.cov = w.cov[:0]
	for k := range w.nb {
		if w.alpha[k] >= 0 {
			w.cov = appendWrapped(w.cov, w.phi[k]-w.alpha[k], w.phi[k]+w.alpha[k])
		}
	}
	w.free = complementArcs(w.free, w.cov)
	sum := p.arcsInside(c, Point{}, w.free, allInside, own)

	// Each stop's circle within D(c), less the arcs the other stops' disks cover.
	for k, s := range w.nb {
		if w.alpha[k] < 0 {
			continue // c's disk covers no arc of s's circle
		}
		psi := w.phi[k] + math.Pi
		w.arc = appendWrapped(w.arc[:0], psi-w.alpha[k], psi+w.alpha[k])
		sortIntervals(w.arc)
		w.cov = w.cov[:0]
		for m, t := range w.nb {
			if m == k {
				continue
			}
			d := t.sub(s)
			d2 := dot(d, d)
			if d2max-d2 <= p.touch {
				continue
			}
			phi := math.Atan2(d.Y, d.X)
			alpha := math.Acos(min(1, math.Sqrt(d2)/(2*radius)))
			w.cov = appendWrapped(w.cov, phi-alpha, phi+alpha)
		}
		w.free = complementArcs(w.free, w.cov)
		w.pieces = intersectArcs(w.pieces[:0], w.free, w.arc)
		if len(w.pieces) > 0 {
			sum -= p.arcsInside(s, s.sub(c), w.pieces, allInside, &p.stopArcs[w.nbIdx[k]])
		}
	}

	// A's edges within D(c), less the parts the stops' disks cover.
	for _, e := range w.edges {
		ed := &p.r.edges[e]
		d := ed.b.sub(ed.a)
		A := dot(d, d)
		t1, t2, ok := p.chord(ed.a, ed.b, d, A, c)
		if !ok {
			continue
		}
		w.ts = w.ts[:0]
		for _, s := range w.nb {
			if u1, u2, ok := p.chord(ed.a, ed.b, d, A, s); ok && u2 > t1 && u1 < t2 {
				w.ts = append(w.ts, interval{u1, u2})
			}
		}
		sortIntervals(w.ts)
		// ½ cross(a + u·d, a + v·d) = ½ (v − u) cross(a, d), relative to c.
		k := 0.5 * cross(ed.a.sub(c), d)
		at := t1
		for _, iv := range w.ts {
			if iv.lo > at {
				sum += k * (min(iv.lo, t2) - at)
			}
			at = max(at, iv.hi)
			if at >= t2 {
				break
			}
		}
		if at < t2 {
			sum += k * (t2 - at)
		}
	}
	return min(max(sum, 0), math.Pi*r2)
}

// nearEdges gathers in w.edges the region's edges within the radius of c,
// or at it to rounding (they may touch c's circle; see arcInside).
func (p *planner) nearEdges(c Point) {
	w := &p.w
	w.edges = w.edges[:0]
	g := &p.r.grid
	x0, y0 := g.cellOf(Point{c.X - p.radius, c.Y - p.radius})
	x1, y1 := g.cellOf(Point{c.X + p.radius, c.Y + p.radius})
	if x1 < 0 || y1 < 0 || x0 >= g.nx || y0 >= g.ny {
		return
	}
	p.nextStamp()
	reach := p.r2 * (1 + 1e-6)
	for cy := g.clampY(y0); cy <= g.clampY(y1); cy++ {
		for cx := g.clampX(x0); cx <= g.clampX(x1); cx++ {
			cell := cy*g.nx + cx
			for _, e := range g.items[g.start[cell]:g.start[cell+1]] {
				if w.stamp[e] == w.gen {
					continue
				}
				w.stamp[e] = w.gen
				ed := &p.r.edges[e]
				if segDist2(c, ed.a, ed.b) <= reach {
					w.edges = append(w.edges, e)
				}
			}
		}
	}
}

// arcsInside is ½∫(x dy − y dx) counter-clockwise over the parts of the
// pieces (sorted, disjoint arcs within [0, 2π]) of the circle about s that
// lie inside the region; rel is s relative to the integration origin.
// allInside says no edge is near and every piece lies inside. slot keeps
// which arcs of the circle lie inside the region: they depend on the circle
// alone, and a circle near the boundary is met again by every gain computed
// near it.
func (p *planner) arcsInside(s, rel Point, pieces []interval, allInside bool, slot *arcSlot) float64 {
	var sum float64
	if len(pieces) == 0 {
		return 0
	}
	if allInside {
		for _, pc := range pieces {
			sum += arcIntegral(rel, p.radius, pc.lo, pc.hi)
		}
		return sum
	}
	w := &p.w
	inside := slot.arcs
	if !slot.known {
		var settled bool
		w.insideArcs, settled = p.circleInside(s, pieces[0], w.insideArcs)
		inside = w.insideArcs
		if settled {
			slot.arcs, slot.known = slices.Clone(inside), true
		}
	}
	w.both = intersectArcs(w.both[:0], pieces, inside)
	for _, iv := range w.both {
		sum += arcIntegral(rel, p.radius, iv.lo, iv.hi)
	}
	return sum
}

// arcSlot holds the arcs of a stop's or a candidate's circle that lie
// inside the region, once known.
type arcSlot struct {
	known bool
	arcs  []interval
}

// circleInside sets dst to the arcs of the circle about s, sorted within
// [0, 2π], that lie inside the region, decided exactly as Cover decides them
// (arcContribution): the circle is split at its crossings with the edges
// near it and each arc tested with arcInside; a circle that crosses no edge
// is on its centre's side unless an edge reaches into the disk, when a point
// of probe, an arc of the circle, is tested. Deciding alike matters where a
// circle only touches an edge: the test points may then fall on the
// boundary, and a gain must still match the areas Cover reports. settled
// reports that the answer does not depend on probe, which it does only for
// a circle that touches an edge without crossing any.
func (p *planner) circleInside(s Point, probe interval, dst []interval) (arcs []interval, settled bool) {
	w := &p.w
	radius, r2 := p.radius, p.r2
	dst = dst[:0]
	w.cross = w.cross[:0]
	g := &p.r.grid
	x0, y0 := g.cellOf(Point{s.X - radius, s.Y - radius})
	x1, y1 := g.cellOf(Point{s.X + radius, s.Y + radius})
	minDist2 := math.Inf(1)
	touching := false
	if x1 >= 0 && y1 >= 0 && x0 < g.nx && y0 < g.ny {
		p.nextStamp()
		for cy := g.clampY(y0); cy <= g.clampY(y1); cy++ {
			for cx := g.clampX(x0); cx <= g.clampX(x1); cx++ {
				cell := cy*g.nx + cx
				for _, e := range g.items[g.start[cell]:g.start[cell+1]] {
					if w.stamp[e] == w.gen {
						continue
					}
					w.stamp[e] = w.gen
					ed := &p.r.edges[e]
					d2 := segDist2(s, ed.a, ed.b)
					minDist2 = min(minDist2, d2)
					touching = touching || math.Abs(d2-r2) <= 1e-6*r2
					w.cross = circleSegmentAngles(s, radius, ed.a, ed.b, w.cross)
				}
			}
		}
	}
	if len(w.cross) == 0 {
		in := p.r.Contains(s)
		if minDist2 < r2 {
			in = p.r.arcInside(s, radius, probe.lo, probe.hi, touching)
		}
		if in {
			dst = append(dst, interval{0, twoPi})
		}
		return dst, !(minDist2 < r2 && touching)
	}
	sort.Float64s(w.cross)
	n := len(w.cross)
	for k := range n {
		lo, hi := w.cross[k], w.cross[(k+1)%n]
		if k == n-1 {
			hi += twoPi
		}
		if hi-lo > 0 && p.r.arcInside(s, radius, lo, hi, touching) {
			dst = appendWrapped(dst, lo, hi)
		}
	}
	sortIntervals(dst)
	return dst, true
}

// nextStamp starts a new round of edge stamps.
func (p *planner) nextStamp() {
	w := &p.w
	if w.gen == math.MaxInt32 {
		clear(w.stamp)
		w.gen = 0
	}
	w.gen++
}

// chord is the parameter interval [t1, t2] ⊂ [0, 1] of the segment a + t·d
// from a to b (d = b − a, A = d·d) inside the disk about s, with the roots
// and the tangency rule of edgeContribution, so that the edge pieces join
// the arcs exactly.
func (p *planner) chord(a, b, d Point, A float64, s Point) (t1, t2 float64, ok bool) {
	f := a.sub(s)
	B := 2 * dot(f, d)
	C := dot(f, f) - p.r2
	disc, crosses := crossingDiscriminant(A, B, C, p.r2, a, s)
	if !crosses {
		return 0, 0, false
	}
	q := -0.5 * (B + math.Copysign(math.Sqrt(disc), B))
	if q == 0 {
		return 0, 0, false
	}
	t1, t2 = snapRoot(q/A, C, a, b, s, p.radius), snapRoot(C/q, C, a, b, s, p.radius)
	if t1 > t2 {
		t1, t2 = t2, t1
	}
	t1, t2 = max(t1, 0), min(t2, 1)
	return t1, t2, t2 > t1
}

// complementArcs sets dst to the parts of [0, 2π) outside every arc of ivs
// (intervals within [0, 2π], sorted here in place).
func complementArcs(dst, ivs []interval) []interval {
	dst = dst[:0]
	sortIntervals(ivs)
	at := 0.0
	for _, iv := range ivs {
		if iv.lo > at {
			dst = append(dst, interval{at, iv.lo})
		}
		at = max(at, iv.hi)
	}
	if at < twoPi {
		dst = append(dst, interval{at, twoPi})
	}
	return dst
}

// intersectArcs appends to dst the intersection of two sorted lists of
// disjoint intervals.
func intersectArcs(dst, a, b []interval) []interval {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo, hi := max(a[i].lo, b[j].lo), min(a[i].hi, b[j].hi)
		if hi > lo {
			dst = append(dst, interval{lo, hi})
		}
		if a[i].hi < b[j].hi {
			i++
		} else {
			j++
		}
	}
	return dst
}

// gainHeap is a max-heap of candidate indices by gain, the lower index
// first on a tie (so plans do not depend on heap internals), that can move
// or remove any candidate.
type gainHeap struct {
	gain  []float64
	items []int32
	pos   []int32 // where each candidate is in items, −1 once removed
}

func (h *gainHeap) init(gain []float64) {
	h.gain = gain
	h.items = make([]int32, len(gain))
	h.pos = make([]int32, len(gain))
	for i := range gain {
		h.items[i] = int32(i)
		h.pos[i] = int32(i)
	}
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *gainHeap) before(a, b int32) bool {
	ga, gb := h.gain[a], h.gain[b]
	return ga > gb || (ga == gb && a < b)
}

func (h *gainHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.pos[h.items[i]] = int32(i)
	h.pos[h.items[j]] = int32(j)
}

func (h *gainHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.before(h.items[i], h.items[parent]) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

func (h *gainHeap) down(i int) {
	n := len(h.items)
	for {
		best := i
		if l := 2*i + 1; l < n && h.before(h.items[l], h.items[best]) {
			best = l
		}
		if r := 2*i + 2; r < n && h.before(h.items[r], h.items[best]) {
			best = r
		}
		if best == i {
			return
		}
		h.swap(i, best)
		i = best
	}
}

// fix restores the order after candidate c's gain changed.
func (h *gainHeap) fix(c int32) {
	i := int(h.pos[c])
	h.up(i)
	h.down(int(h.pos[c]))
}

func (h *gainHeap) remove(c int32) {
	i := int(h.pos[c])
	last := len(h.items) - 1
	if i != last {
		h.swap(i, last)
	}
	h.items = h.items[:last]
	h.pos[c] = -1
	if i < last {
		moved := h.items[i]
		h.up(i)
		h.down(int(h.pos[moved]))
	}
}
