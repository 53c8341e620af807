package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergrid/runner/internal/browser"
)

// outline is the structure of an HTML page, one line per heading, table, chart
// and script: what a reader sees, without the bytes of coordinates and styles.
func outline(t *testing.T, page []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var b strings.Builder
	var text strings.Builder
	var inHeading, inTable, inSVG string
	rows, cols, series, points := 0, 0, []string{}, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("cannot parse the page: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			name := tk.Name.Local
			for _, a := range tk.Attr {
				if (a.Name.Local == "src" || a.Name.Local == "href") && !strings.HasPrefix(a.Value, "#") {
					t.Errorf("<%s %s=%q> points outside the page", name, a.Name.Local, a.Value)
				}
			}
			switch {
			case name == "link" || name == "img" || name == "iframe":
				t.Errorf("<%s> in a self-contained page", name)
			case inSVG != "":
				if name == "g" && attr(tk, "class") == "series" {
					series = append(series, attr(tk, "aria-label"))
					points = 0
				}
				if name == "circle" {
					points++
					n := series[len(series)-1]
					series[len(series)-1] = fmt.Sprintf("%s:%d", strings.Split(n, ":")[0], points)
				}
			case name == "svg":
				inSVG, series = attr(tk, "aria-label"), nil
			case len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6':
				inHeading = name
				text.Reset()
			case name == "table":
				inTable, rows, cols = "table", 0, 0
			case name == "li" && inTable == "":
				b.WriteString("  item\n")
			case name == "tr" && inTable != "":
				rows++
				cols = 0
			case (name == "td" || name == "th") && inTable != "":
				cols++
			case name == "script":
				b.WriteString("script\n")
			}
		case xml.CharData:
			if inHeading != "" {
				text.Write(tk)
			}
		case xml.EndElement:
			switch name := tk.Name.Local; {
			case name == "svg" && inSVG != "":
				fmt.Fprintf(&b, "  chart %q, points per series %q\n", inSVG, series)
				inSVG = ""
			case name == inHeading:
				fmt.Fprintf(&b, "%s %s\n", inHeading, strings.TrimSpace(text.String()))
				inHeading = ""
			case name == "table":
				fmt.Fprintf(&b, "  table %d rows × %d columns\n", rows, cols)
				inTable = ""
			}
		}
	}
	return b.String()
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestHTMLStructure(t *testing.T) {
	dir := writtenFixture(t)
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html.outline", []byte(outline(t, page)))
	for _, sc := range mustRead(t, dir).Scenarios {
		if id := sc.Outcome.Scenario.ID; !bytes.Contains(page, []byte(id)) {
			t.Errorf("report.html does not name scenario %s", id)
		}
	}
}

func mustRead(t *testing.T, dir string) *Data {
	t.Helper()
	d, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHTMLEscapes checks that text of the run, such as an error message quoting
// the service's HTML, is shown as text: only the <br> of table cells is markup.
func TestHTMLEscapes(t *testing.T) {
	d := mustRead(t, fixture(t))
	d.Scenarios[0].Outcome.Status = "failed"
	d.Scenarios[0].Outcome.Error = `bad answer <script>alert(1)</script> <img src=x>`
	d.Scenarios[0].Outcome.Load.Requests = 0
	var b bytes.Buffer
	if err := HTML(&b, d, Findings(d.Run, d.Outcomes())); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x>") {
		t.Errorf("markup of an error message reached the page as markup")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the error message is not shown as text")
	}
	if n := strings.Count(page, "<script>"); n != 1 {
		t.Errorf("%d <script> elements, want the page's own one", n)
	}
}

// TestHTMLInChromium renders report.html from a file:// URL in headless
// chromium: every scenario is named, the charts are drawn with their points, and
// the page's script ran. The screenshot is kept as an artefact (see
// internal/browser.Artefact).
func TestHTMLInChromium(t *testing.T) {
	c := browser.Find(t)
	dir := writtenFixture(t)
	shot := browser.Artefact(t, "report-html.png")
	dom, err := c.Load(t.Context(), "file://"+filepath.Join(dir, HTMLFile), 1280, 2400, 0, shot)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range mustRead(t, dir).Scenarios {
		if id := sc.Outcome.Scenario.ID; !strings.Contains(dom, id) {
			t.Errorf("the rendered page does not name scenario %s", id)
		}
	}
	if n := strings.Count(dom, `<svg class="chart"`); n < 40 {
		t.Errorf("%d charts drawn, want at least 40", n)
	}
	if n := strings.Count(dom, "<circle"); n < 500 {
		t.Errorf("%d points drawn, want at least 500", n)
	}
	if !strings.Contains(dom, `class="chart-tip"`) {
		t.Errorf("the page's script did not run (no tooltip element)")
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
}
