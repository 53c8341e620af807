package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// link matches a Markdown link or image target: [text](target) or ![alt](target).
var link = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// heading matches a Markdown heading line.
var heading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)

// TestRelativeLinksResolve checks every relative link of README.md and docs/*.md:
// its file exists, and the heading an anchor names is in it.
func TestRelativeLinksResolve(t *testing.T) {
	pages, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join("..", "README.md"))
	if len(pages) < 2 {
		t.Fatalf("found %v, want README.md and the docs pages", pages)
	}
	for _, page := range pages {
		text := readFile(t, page)
		for _, m := range link.FindAllStringSubmatch(stripCode(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s: link %s: %v", page, target, err)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(path, ".md") && !anchors(readFile(t, path))[anchor] {
				t.Errorf("%s: link %s: %s has no heading with anchor #%s", page, target, path, anchor)
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stripCode removes fenced code blocks, whose brackets are not links.
func stripCode(text string) string {
	var b strings.Builder
	fence := false
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "```") {
			fence = !fence
			continue
		}
		if !fence {
			b.WriteString(line)
		}
	}
	return b.String()
}

// anchors returns the anchors GitHub gives the headings of a page: lowercase,
// punctuation dropped, spaces as hyphens, repeats suffixed -1, -2, ...
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(stripCode(text), -1) {
		a := slug(m[1])
		for i := 1; out[a]; i++ {
			a = slug(m[1]) + "-" + string(rune('0'+i))
		}
		out[a] = true
	}
	return out
}

func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Load balancer in the stack (`balancer: proxy`)", "load-balancer-in-the-stack-balancer-proxy"},
		{"HAProxy or nginx instead of the runner's proxy (`image:`)", "haproxy-or-nginx-instead-of-the-runners-proxy-image"},
		{"Platforms, limits and telemetry", "platforms-limits-and-telemetry"},
	} {
		if got := slug(tt.in); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFrontPage keeps README.md a front page: short, with the two commands.
func TestFrontPage(t *testing.T) {
	text := readFile(t, filepath.Join("..", "README.md"))
	if n := len(text); n > 25000 {
		t.Errorf("README.md has %d characters, want at most 25,000: move reference text to docs/", n)
	}
	for _, cmd := range []string{"    go run ./cmd/runner scenarios/workshop5.yaml\n", "    make test\n"} {
		if !strings.Contains(text, cmd) {
			t.Errorf("README.md lost the command %q", strings.TrimSpace(cmd))
		}
	}
}
