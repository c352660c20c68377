package views

import (
	"fmt"
	"math"
	"strconv"

	"github.com/a-h/templ"
)

// Chart is one server-rendered bar chart (BarChart): a bar per day, drawn
// as inline SVG with no script. The Sessions report and the service-level
// report both build one; BarChart alone decides the geometry and markup.
type Chart struct {
	// ID is the figure's element id; Title its caption.
	ID    string
	Title string
	// Desc describes the chart to screen readers (the caption if empty).
	Desc string
	// Note is a hint under the caption (e.g. "only the last 92 days"),
	// with NoteID as its element id.
	Note, NoteID string
	Bars         []ChartBar
	// Max is the value of the top of the scale; MaxText its label.
	Max     float64
	MaxText string
	// Empty: nothing to chart; EmptyText says so across the plot.
	Empty     bool
	EmptyText string
}

// ChartBar is one bar: its value, the day label under it (every few bars),
// its tooltip, and optionally a link (Href) and data attributes for pages
// and tests that read the values.
type ChartBar struct {
	Value float64
	Label string
	Title string
	Href  string
	Attrs templ.Attributes
}

// Chart geometry: the viewBox and the plot area's margins (user units).
const (
	chartW      = 720.0
	chartH      = 200.0
	chartLeft   = 48.0
	chartRight  = 4.0
	chartBottom = 22.0
	chartTop    = 8.0
	chartPlotH  = chartH - chartBottom - chartTop
)

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func chartViewBox() string { return fmt.Sprintf("0 0 %.0f %.0f", chartW, chartH) }

// chartSlot is the width given to each of c's bars.
func (c Chart) slot() float64 {
	return (chartW - chartLeft - chartRight) / math.Max(float64(len(c.Bars)), 1)
}

// barX is the left edge of bar i's slot.
func (c Chart) slotX(i int) float64 { return chartLeft + float64(i)*c.slot() }

// barH is the height of a bar of value v: at least one unit for a non-zero
// value, so a day with something is never invisible beside a large one.
func (c Chart) barH(v float64) float64 {
	if v <= 0 || c.Max <= 0 {
		return 0
	}
	return math.Max(1, chartPlotH*math.Min(v, c.Max)/c.Max)
}

// chartDesc is what a screen reader hears of c.
func (c Chart) desc() string {
	if c.Desc != "" {
		return c.Desc
	}
	return c.Title
}

// chartLabelEvery spaces day labels so that about ten show.
func chartLabelEvery(n int) int { return max(1, int(math.Ceil(float64(n)/10))) }

// niceCeil rounds a scale's top up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
