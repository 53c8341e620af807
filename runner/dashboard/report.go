package dashboard

import (
	"net/http"
	"os"
)

// SetReport makes the dashboard serve the file at path (the run's report.html)
// on "/report.html" and link it from the page. The path is fixed here, never
// taken from a request.
func (s *Server) SetReport(path string) {
	s.update(func(st *state) { st.Report = path })
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	path := s.st.Report
	s.mu.Unlock()
	if path == "" {
		http.NotFound(w, r)
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		http.Error(w, "the report cannot be read", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}
