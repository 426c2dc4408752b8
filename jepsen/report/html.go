package report

import (
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"time"

	"github.com/dynonode/dynonode/internal/check"
	"github.com/dynonode/dynonode/jepsen/nemesis"
)

// Verdict is one checker's result on one workload.
type Verdict struct {
	Workload string       `json:"workload"`
	Checker  string       `json:"checker"` // what judged it
	Result   check.Result `json:"result"`
}

// Run is what index.html shows.
type Run struct {
	Name      string
	Topology  string
	Seed      uint64
	Duration  time.Duration
	Verdicts  []Verdict
	Windows   []nemesis.Window
	Phases    []nemesis.Window // settle, converge, liveness
	Ops       int              // completions recorded
	Nodes     []string
	HarnessOK bool // no harness error
	Error     string
}

// Valid reports whether every checker passed and the harness ran cleanly.
func (r Run) Valid() bool {
	for _, v := range r.Verdicts {
		if !v.Result.Valid {
			return false
		}
	}
	return r.HarnessOK
}

var page = template.Must(template.New("index").Funcs(template.FuncMap{
	"secs": func(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>dynonode Jepsen run {{.Name}}</title>
<style>
body{font-family:sans-serif;max-width:1200px;margin:1em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.ok{color:#1b7a2e;font-weight:bold}.bad{color:#c00;font-weight:bold}code{background:#f4f4f4}
img{max-width:100%;border:1px solid #ddd}
</style></head><body>
<h1>dynonode Jepsen run <code>{{.Name}}</code></h1>
<p>Verdict: {{if .Valid}}<span class="ok">VALID</span>: no checker found a violation of what the consistency levels promise{{else}}<span class="bad">INVALID</span>{{end}}.
{{if .Error}}<br><span class="bad">Harness error: {{.Error}}</span>{{end}}</p>
<p>Topology <b>{{.Topology}}</b> (nodes {{range .Nodes}}{{.}} {{end}}), seed {{.Seed}}, {{secs .Duration}} s, {{.Ops}} operations completed.
Reproduce the nemesis order with <code>make jepsen SEED={{.Seed}}</code>.</p>
<h2>Checkers</h2>
<table><tr><th>workload</th><th>checker</th><th>verdict</th><th>operations (f:outcome)</th><th>violations</th></tr>
{{range .Verdicts}}<tr><td>{{.Workload}}</td><td>{{.Checker}}</td>
<td>{{if .Result.Valid}}<span class="ok">valid</span>{{else}}<span class="bad">invalid</span>{{end}}</td>
<td>{{range $k, $v := .Result.Stats}}{{$k}}={{$v}}<br>{{end}}</td>
<td>{{range $i, $v := .Result.Violations}}{{if lt $i 20}}{{$v.Checker}}: {{$v.What}}<br>{{end}}{{end}}</td></tr>
{{end}}</table>
<h2>Latency and throughput</h2>
<p>Top: each operation's latency at its invoke time, green ok, orange info (outcome unknown), red fail.
Bottom: completions per second. Blue bands are nemesis windows, labelled by fault; grey bands are
the settle period after the heal (no clients run), the converge phase (every replica read directly, then each key through a node) and the liveness phase (every level through every node).</p>
<img src="plot.png" alt="latency and throughput plot">
<h2>Nemesis</h2>
<table><tr><th>start (s)</th><th>end (s)</th><th>fault</th><th>targets</th><th>detail</th><th>error</th></tr>
{{range .Windows}}<tr><td>{{secs .Start}}</td><td>{{secs .End}}</td><td>{{.Kind}}</td><td>{{range .Targets}}{{.}} {{end}}</td><td>{{.Detail}}</td><td>{{.Error}}</td></tr>
{{end}}</table>
<h2>Files</h2>
<ul>
<li><a href="history.jsonl">history.jsonl</a>: every invoke and completion (check.Op, one JSON object per line)</li>
<li><a href="results.json">results.json</a>: the verdicts and nemesis windows</li>
<li><a href="nemesis.log">nemesis.log</a>: the harness's log (nemesis actions, docker commands)</li>
<li><a href="cluster/docker-compose.yml">cluster/docker-compose.yml</a> and <a href="cluster/conf/">cluster/conf/</a>: the cluster as run</li>
<li>{{range .Nodes}}<a href="cluster/logs/{{.}}.log">{{.}}.log</a> {{end}}: container logs (nodeinit, redis-server, dynonode)</li>
</ul>
</body></html>
`))

// WriteIndex writes dir/index.html.
func WriteIndex(dir string, r Run) error {
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := page.Execute(f, struct {
		Run
		Valid bool
	}{r, r.Valid()}); err != nil {
		f.Close()
		return fmt.Errorf("report: index.html: %w", err)
	}
	return f.Close()
}
