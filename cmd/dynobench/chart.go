package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"image/color"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// chartCmd draws one group of bars per target: its ops/s over redis direct
// in the same run, for each workload column (P1/P16, SET/GET).
func chartCmd(args []string) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	in := fs.String("in", "results/bench.csv", "medians: target,pipeline,test,ops,p50,p99,ratio")
	out := fs.String("out", "results/bench.png", "PNG to write")
	title := fs.String("title", "ops/s relative to redis-server direct (same run, median)", "chart title")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("read %s: %w", *in, err)
	}
	var targets, cols []string
	ratio := map[[2]string]float64{}
	seen := map[string]bool{}
	for i, r := range rows {
		if i == 0 || len(r) < 7 {
			continue // header
		}
		col := "P" + r[1] + " " + r[2]
		v, err := strconv.ParseFloat(r[6], 64)
		if err != nil {
			return fmt.Errorf("%s line %d: ratio %q: %w", *in, i+1, r[6], err)
		}
		if !seen["t:"+r[0]] {
			seen["t:"+r[0]] = true
			targets = append(targets, r[0])
		}
		if !seen["c:"+col] {
			seen["c:"+col] = true
			cols = append(cols, col)
		}
		ratio[[2]string{r[0], col}] = v
	}
	if len(targets) == 0 {
		return fmt.Errorf("%s holds no results", *in)
	}
	p := plot.New()
	p.Title.Text = *title
	p.Y.Label.Text = "ratio to redis direct"
	p.Legend.Top = true
	w := vg.Points(60 / float64(len(cols)))
	for ci, col := range cols {
		vals := make(plotter.Values, len(targets))
		for ti, t := range targets {
			vals[ti] = ratio[[2]string{t, col}]
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(ci)
		bars.Offset = w * vg.Length(float64(ci)-float64(len(cols)-1)/2)
		p.Add(bars)
		p.Legend.Add(col, bars)
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Color = color.Gray{Y: 96}
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(one)
	p.NominalX(targets...)
	return p.Save(vg.Length(140+110*len(targets))*vg.Points(1), 4*vg.Inch, *out)
}
