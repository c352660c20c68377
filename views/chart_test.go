package views

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func renderChart(t *testing.T, c Chart) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, BarChart(c).Render(WithLanguage(context.Background(), "en"), &buf))
	doc, err := goquery.NewDocumentFromReader(&buf)
	require.NoError(t, err)
	return doc
}

// The one bar chart both reports draw: a bar per day inside the plot, a
// zero-high one for nothing, a visible one (at least one unit) for the
// smallest value, links and data attributes where given, day labels thinned
// to about ten, and the empty text only when there is nothing.
func TestBarChart(t *testing.T) {
	t.Parallel()
	c := Chart{ID: "chart-x", Title: "Things per day", Desc: "12 things", Note: "Only the last days", NoteID: "chart-x-note",
		Max: 1000, MaxText: "1000"}
	for i := range 30 {
		v := 0.0
		switch i {
		case 3:
			v = 1
		case 29:
			v = 1000
		}
		b := ChartBar{Value: v, Label: "d" + strconv.Itoa(i), Title: "day " + strconv.Itoa(i)}
		if i < 15 {
			b.Href = "/reports/x?day=" + strconv.Itoa(i)
			b.Attrs = templ.Attributes{"data-count": strconv.Itoa(int(v))}
		}
		c.Bars = append(c.Bars, b)
	}
	doc := renderChart(t, c)
	fig := doc.Find("figure#chart-x.chart")
	require.Equal(t, 1, fig.Length())
	assert.Equal(t, "Things per day", fig.Find("figcaption").Text())
	assert.Equal(t, "Only the last days", fig.Find("#chart-x-note").Text())
	assert.Equal(t, "12 things", fig.Find("svg").AttrOr("aria-label", ""))
	assert.Equal(t, 30, fig.Find(".bar").Length())
	assert.Equal(t, 30, fig.Find("rect.chart-bar").Length(), "a bar per day, zeros included")
	assert.Equal(t, 2, fig.Find("rect.bar-fill").Length(), "filled only where there is something")
	assert.Equal(t, 15, fig.Find("a.bar[href]").Length())
	assert.Equal(t, 15, fig.Find("a.bar .bar-hit").Length(), "links get a full-height target")
	assert.Equal(t, "/reports/x?day=3", fig.Find(`a.bar[data-count="1"]`).AttrOr("href", ""))
	assert.Equal(t, "day 3", fig.Find(".bar").Eq(3).Find("title").Text())
	assert.Equal(t, 10, fig.Find("text.chart-label").Length(), "about ten day labels")
	assert.Zero(t, fig.Find(".chart-empty").Length())

	num := func(s *goquery.Selection, attr string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(s.AttrOr(attr, ""), 64)
		require.NoError(t, err, attr)
		return v
	}
	tiny, full := fig.Find(".bar").Eq(3).Find("rect.chart-bar"), fig.Find(".bar").Eq(29).Find("rect.chart-bar")
	assert.GreaterOrEqual(t, num(tiny, "height"), 1.0, "the smallest value stays visible")
	assert.InDelta(t, chartPlotH, num(full, "height"), 0.05, "the top of the scale fills the plot")
	assert.InDelta(t, chartTop, num(full, "y"), 0.05)
	assert.LessOrEqual(t, num(full, "x")+num(full, "width"), chartW-chartRight, "inside the plot")
	assert.Zero(t, num(fig.Find(".bar").Eq(0).Find("rect.chart-bar"), "height"))

	empty := renderChart(t, Chart{ID: "chart-e", Title: "Nothing", Max: 1, MaxText: "1", Empty: true, EmptyText: "No data",
		Bars: []ChartBar{{Label: "a"}, {Label: "b"}}})
	assert.Equal(t, "No data", empty.Find(".chart-empty").Text())
	assert.Equal(t, "Nothing", empty.Find("svg").AttrOr("aria-label", ""), "the caption when no description")
	assert.Zero(t, empty.Find("rect.bar-fill").Length())
	assert.Zero(t, empty.Find(".chart-note").Length())
}
