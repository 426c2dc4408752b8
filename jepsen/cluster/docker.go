package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Project is the compose project every run uses: a run that died without
// tearing down is cleaned up by the next one (Down before Up).
const Project = "dynojepsen"

// Cluster is a topology brought up with docker-compose.
type Cluster struct {
	Topo    Topology
	Dir     string // where the compose file, configs and logs live
	Image   string
	compose string
	Log     io.Writer // docker commands and their output
}

// New writes the cluster's files under dir.
func New(topo Topology, dir, image string, log io.Writer) (*Cluster, error) {
	path, err := topo.WriteFiles(dir, image)
	if err != nil {
		return nil, err
	}
	return &Cluster{Topo: topo, Dir: dir, Image: image, compose: path, Log: log}, nil
}

// run runs a command with a deadline and returns its combined output.
func (c *Cluster) run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	fmt.Fprintf(c.Log, "$ %s %s\n%s", name, strings.Join(args, " "), out.String())
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(lastLine(out.String())))
	}
	return out.String(), nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

var libPath = regexp.MustCompile(`(/\S+) \(0x`)

// BuildImage assembles a build context in a temporary directory (the static
// dynonode and nodeinit from binDir, the host's redis-server with every
// shared library ldd lists, the dynamic loader) and builds Image FROM
// scratch: nothing is pulled.
func (c *Cluster) BuildImage(binDir string) error {
	ctxDir, err := os.MkdirTemp("", "dynojepsen-image-")
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer os.RemoveAll(ctxDir)
	redis, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("cluster: redis-server is not installed on the host (apt-get install redis-server): %w", err)
	}
	files := map[string]string{ // source -> path in the image
		filepath.Join(binDir, "dynonode"): "/dynonode",
		filepath.Join(binDir, "nodeinit"): "/nodeinit",
		redis:                             "/redis-server",
	}
	ldd, err := exec.Command("ldd", redis).Output()
	if err != nil {
		return fmt.Errorf("cluster: ldd %s: %w", redis, err)
	}
	for _, m := range libPath.FindAllStringSubmatch(string(ldd), -1) {
		files[m[1]] = m[1] // copied under the path the loader looks for
	}
	for src, dst := range files {
		if err := copyFile(src, filepath.Join(ctxDir, dst)); err != nil {
			return err
		}
	}
	for _, d := range []string{"data", "tmp", "conf"} {
		if err := os.MkdirAll(filepath.Join(ctxDir, d), 0o755); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
	}
	dockerfile := filepath.Join(filepath.Dir(ctxDir), filepath.Base(ctxDir)+".Dockerfile")
	if err := os.WriteFile(dockerfile, []byte("FROM scratch\nCOPY . /\nENTRYPOINT [\"/nodeinit\"]\n"), 0o644); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer os.Remove(dockerfile)
	_, err = c.run(5*time.Minute, "docker", "build", "-q", "-f", dockerfile, "--label", "dynonode.jepsen="+Project, "-t", c.Image, ctxDir)
	return err
}

// copyFile copies src (following symlinks) to dst, keeping its mode.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("cluster: read %s: %w", src, err)
	}
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
		return fmt.Errorf("cluster: write %s: %w", dst, err)
	}
	return nil
}

func (c *Cluster) composeArgs(args ...string) []string {
	return append([]string{"-p", Project, "-f", c.compose}, args...)
}

// Up removes what a previous run may have left, then starts every node.
func (c *Cluster) Up() error {
	_, _ = c.run(2*time.Minute, "docker-compose", c.composeArgs("down", "-v", "--remove-orphans", "-t", "2")...)
	_, err := c.run(3*time.Minute, "docker-compose", c.composeArgs("up", "-d")...)
	return err
}

// Down saves every node's log under Dir/logs, removes the containers, the
// network and the image. It is safe to call after a failed Up.
func (c *Cluster) Down() error {
	if err := os.MkdirAll(filepath.Join(c.Dir, "logs"), 0o755); err == nil {
		for _, n := range c.Topo.Nodes {
			out, _ := c.run(30*time.Second, "docker", "logs", "--timestamps", c.Container(n.Name))
			_ = os.WriteFile(filepath.Join(c.Dir, "logs", n.Name+".log"), []byte(out), 0o644)
		}
	}
	for _, n := range c.Topo.Nodes { // a paused container cannot be removed
		_, _ = c.run(30*time.Second, "docker", "unpause", c.Container(n.Name))
	}
	_, err := c.run(2*time.Minute, "docker-compose", c.composeArgs("down", "-v", "--remove-orphans", "-t", "2")...)
	if _, rerr := c.run(time.Minute, "docker", "rmi", "-f", c.Image); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// Container is the docker name of node's container.
func (c *Cluster) Container(node string) string { return Project + "_" + node + "_1" }

// Network is the docker name of the compose network.
func (c *Cluster) Network() string { return Project + "_net" }

// Docker runs a docker command (for the nemeses).
func (c *Cluster) Docker(args ...string) error {
	_, err := c.run(time.Minute, "docker", args...)
	return err
}

// Pid is the host pid of node's nodeinit (the container's PID 1).
func (c *Cluster) Pid(node string) (int, error) {
	out, err := c.run(30*time.Second, "docker", "inspect", "-f", "{{.State.Pid}}", c.Container(node))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || pid == 0 {
		return 0, fmt.Errorf("cluster: %s is not running (pid %q)", node, strings.TrimSpace(out))
	}
	return pid, nil
}

// ChildPid is the host pid of the child of node's nodeinit named comm
// (redis-server or dynonode); 0 when it is not running.
func (c *Cluster) ChildPid(node, comm string) (int, error) {
	parent, err := c.Pid(node)
	if err != nil {
		return 0, err
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range dirs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(data)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 || s[open+1:close] != comm {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == parent {
			return strconv.Atoi(strings.TrimSpace(s[:open]))
		}
	}
	return 0, nil
}

// InNetns runs a host command (tc, iptables, ip) inside node's network
// namespace through nsenter.
func (c *Cluster) InNetns(node string, args ...string) (string, error) {
	pid, err := c.Pid(node)
	if err != nil {
		return "", err
	}
	return c.run(30*time.Second, "nsenter", append([]string{"-t", strconv.Itoa(pid), "-n"}, args...)...)
}

// Iface is the name of node's interface on the compose network (eth0, or
// another name after a disconnect and reconnect).
func (c *Cluster) Iface(node string) (string, error) {
	out, err := c.InNetns(node, "ip", "-o", "link")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] != "lo:" {
			return strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0], nil
		}
	}
	return "", fmt.Errorf("cluster: %s has no network interface", node)
}
