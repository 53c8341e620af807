package inference

import (
	"embed"
	"fmt"
	"sort"
	"sync"
)

// The embedded models, trained by train/train.py (make model).
//
//go:embed models/default.json models/large.json.gz
var modelFiles embed.FS

// embedded maps the name of each embedded model to its file.
var embedded = map[string]string{
	"default": "models/default.json",
	"large":   "models/large.json.gz",
}

var embeddedCache sync.Map // name -> func() (*Model, error)

// EmbeddedModels lists the names of the models built into the binary.
func EmbeddedModels() []string {
	names := make([]string, 0, len(embedded))
	for n := range embedded {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LoadModel returns an embedded model by name ("default", "large"), or reads the XGBoost
// JSON model file at the given path. Embedded models are parsed once per process.
func LoadModel(name string) (*Model, error) {
	file, ok := embedded[name]
	if !ok {
		return LoadModelFile(name)
	}
	load, _ := embeddedCache.LoadOrStore(name, sync.OnceValues(func() (*Model, error) {
		b, err := modelFiles.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("cannot read embedded model %s: %w", name, err)
		}
		return readModelBytes(name, b)
	}))
	return load.(func() (*Model, error))()
}
