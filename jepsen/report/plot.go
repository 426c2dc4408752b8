// Package report writes a Jepsen run's report: a PNG of latency and
// throughput over time with the nemesis windows shaded, and an index.html
// tying the history, the verdicts, the plot and the cluster files together.
package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/dynonode/dynonode/internal/check"
	"github.com/dynonode/dynonode/jepsen/nemesis"
)

var typeColor = map[check.Type]color.Color{
	check.OK:   color.RGBA{0x1b, 0x9e, 0x3a, 0xff},
	check.Info: color.RGBA{0xf0, 0x8c, 0x00, 0xff},
	check.Fail: color.RGBA{0xd6, 0x27, 0x28, 0xff},
}

// shade draws the nemesis windows behind the data, labelled by fault.
type shade struct {
	windows []nemesis.Window
	fill    color.Color
}

func (s shade) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, w := range s.windows {
		x0, x1 := trX(w.Start.Seconds()), trX(w.End.Seconds())
		c.FillPolygon(s.fill, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
	}
}

// labels writes each window's fault name at the top of the panel.
type labels struct{ windows []nemesis.Window }

func (l labels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := draw.TextStyle{Color: color.RGBA{0x33, 0x33, 0x88, 0xff}, Font: plot.DefaultFont, Rotation: math.Pi / 2,
		XAlign: draw.XRight, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
	sty.Font.Size = vg.Points(8)
	for _, w := range l.windows {
		c.FillText(sty, vg.Point{X: trX(w.Start.Seconds()) + 2, Y: c.Max.Y - 2}, w.Kind)
	}
}

var (
	faultFill = color.NRGBA{0x70, 0x70, 0xe0, 0x40}
	phaseFill = color.NRGBA{0xa0, 0xa0, 0xa0, 0x30}
)

// Plot writes a PNG: latency of every operation (by outcome, log scale) and
// throughput per second (all completions, and successful ones), both over
// the run's time with the nemesis windows shaded blue and phases (settling
// with no clients, the convergence reads, liveness checks) shaded grey.
func Plot(h check.History, windows, phases []nemesis.Window, path string) error {
	byType := map[check.Type]plotter.XYs{}
	open := map[int]check.Op{}
	var end float64
	perSec := map[int][2]float64{} // second -> [all, ok]
	for _, op := range h {
		if op.Type == check.Invoke {
			open[op.Process] = op
			continue
		}
		inv, ok := open[op.Process]
		if !ok {
			continue
		}
		delete(open, op.Process)
		lat := (op.Time - inv.Time).Seconds() * 1000
		byType[op.Type] = append(byType[op.Type], plotter.XY{X: inv.Time.Seconds(), Y: math.Max(lat, 0.05)})
		s := int(op.Time.Seconds())
		v := perSec[s]
		v[0]++
		if op.Type == check.OK {
			v[1]++
		}
		perSec[s] = v
		end = math.Max(end, op.Time.Seconds())
	}
	for _, w := range append(slices.Clone(windows), phases...) {
		end = math.Max(end, w.End.Seconds())
	}

	lat := plot.New()
	lat.Title.Text = "Latency per operation (at invoke) — blue: nemesis active, grey: settling / converge / liveness"
	lat.X.Label.Text, lat.Y.Label.Text = "time (s)", "latency (ms, log)"
	lat.Y.Scale, lat.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	lat.X.Min, lat.X.Max = 0, end
	lat.Add(shade{windows, faultFill}, shade{phases, phaseFill})
	for _, t := range []check.Type{check.OK, check.Info, check.Fail} {
		if len(byType[t]) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(byType[t])
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius, sc.GlyphStyle.Shape = typeColor[t], vg.Points(1.3), draw.CircleGlyph{}
		lat.Add(sc)
		lat.Legend.Add(fmt.Sprintf("%s (%d)", t, len(byType[t])), sc)
	}
	lat.Add(labels{append(slices.Clone(windows), phases...)})
	lat.Legend.Top, lat.Legend.Left = true, false

	tp := plot.New()
	tp.Title.Text = "Throughput (completions per second)"
	tp.X.Label.Text, tp.Y.Label.Text = "time (s)", "ops/s"
	tp.X.Min, tp.X.Max = 0, end
	tp.Add(shade{windows, faultFill}, shade{phases, phaseFill})
	secs := make([]int, 0, len(perSec))
	for s := range perSec {
		secs = append(secs, s)
	}
	sort.Ints(secs)
	var all, okXY plotter.XYs
	for s := 0; len(secs) > 0 && s <= secs[len(secs)-1]; s++ {
		v := perSec[s]
		all = append(all, plotter.XY{X: float64(s) + 0.5, Y: v[0]})
		okXY = append(okXY, plotter.XY{X: float64(s) + 0.5, Y: v[1]})
	}
	for i, series := range []plotter.XYs{all, okXY} {
		if len(series) == 0 {
			continue
		}
		l, err := plotter.NewLine(series)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		name := "all"
		l.LineStyle.Color = color.RGBA{0x44, 0x44, 0x44, 0xff}
		if i == 1 {
			name, l.LineStyle.Color = "ok", typeColor[check.OK]
		}
		l.LineStyle.Width = vg.Points(1.2)
		tp.Add(l)
		tp.Legend.Add(name, l)
	}
	tp.Legend.Top = true
	tp.Y.Min = 0

	const w, hgt = 30 * vg.Centimeter, 20 * vg.Centimeter
	img := vgimg.NewWith(vgimg.UseWH(w, hgt), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter, PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter}
	canvases := plot.Align([][]*plot.Plot{{lat}, {tp}}, tiles, dc)
	lat.Draw(canvases[0][0])
	tp.Draw(canvases[1][0])
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return f.Close()
}
