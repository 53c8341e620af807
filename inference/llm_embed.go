package inference

import (
	_ "embed"
	"sync"
)

// The embedded generative model, trained by train/train_llm.py (make model-llm).
//
//go:embed models/llm.safetensors
var llmFile []byte

// DefaultLLM is the name of the embedded generative model.
const DefaultLLM = "fortune-1.8m"

// LoadLLM returns the embedded generative model (DefaultLLM, parsed once per process)
// or reads the safetensors file at the given path.
func LoadLLM(name string) (*LLM, error) {
	if name == DefaultLLM || name == "" {
		return embeddedLLM()
	}
	return LoadLLMFile(name)
}

var embeddedLLM = sync.OnceValues(func() (*LLM, error) { return ParseLLM(DefaultLLM, llmFile) })
